// Package llamacppbackend serves the llamacpp backend (a model behind
// llama.cpp's llama-server) as a backend plugin; the binary
// plugins/backends/llamacpp calls Serve.
//
// The host's parameter string is the server's URL, or a JSON object:
//
//	{"url": "http://127.0.0.1:8080", "api_key_env": "LLAMA_API_KEY",
//	 "vocab_file": "/models/base.gguf", "top_k": 40, "full_dist": false,
//	 "concurrency": 4, "timeout": "60s", "retries": 4, "name": "base"}
package llamacppbackend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/baco-go/baco/backends/llamacpp"
	"github.com/baco-go/baco/backends/remote"
	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/plugins/builtin"
	"github.com/baco-go/baco/sdk/plugin"
)

// Name is the plugin's name.
const Name = "llamacpp"

// Params are the plugin's parameters.
type Params struct {
	// URL is llama-server's base URL.
	URL string `json:"url"`
	// APIKey is sent as a Bearer token (prefer APIKeyEnv).
	APIKey string `json:"api_key,omitempty"`
	// APIKeyEnv names an environment variable holding the API key.
	APIKeyEnv string `json:"api_key_env,omitempty"`
	// Name is the model name Info reports.
	Name string `json:"name,omitempty"`
	// VocabFile is a local GGUF with the served model's vocabulary.
	VocabFile string `json:"vocab_file,omitempty"`
	// TopK is the default number of candidates.
	TopK int `json:"top_k,omitempty"`
	// FullDist asks for the whole vocabulary every step.
	FullDist bool `json:"full_dist,omitempty"`
	// Concurrency is the most requests in flight.
	Concurrency int `json:"concurrency,omitempty"`
	// Timeout bounds one request, e.g. "60s".
	Timeout string `json:"timeout,omitempty"`
	// Retries is the most tries of one request.
	Retries int `json:"retries,omitempty"`
}

// ParseParams parses a parameter string: a URL, or a JSON object.
func ParseParams(s string) (Params, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Params{}, errors.New(`llamacpp backend: no server: the parameter string must be a URL or {"url": URL}`)
	}
	if !strings.HasPrefix(s, "{") {
		return Params{URL: s}, nil
	}
	var p Params
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Params{}, fmt.Errorf("llamacpp backend: parameters: %w", err)
	}
	if p.URL == "" {
		return Params{}, errors.New(`llamacpp backend: parameters: "url" is required`)
	}
	if p.TopK < 0 || p.Concurrency < 0 || p.Retries < 0 {
		return Params{}, errors.New("llamacpp backend: parameters: top_k, concurrency and retries must not be negative")
	}
	if _, err := p.retry(); err != nil {
		return Params{}, err
	}
	return p, nil
}

func (p Params) retry() (remote.Retry, error) {
	r := remote.DefaultRetry
	if p.Timeout != "" {
		d, err := time.ParseDuration(p.Timeout)
		if err != nil || d <= 0 {
			return r, fmt.Errorf("llamacpp backend: parameters: timeout %q: want a positive duration like \"60s\"", p.Timeout)
		}
		r.Timeout = d
	}
	if p.Retries > 0 {
		r.Attempts = p.Retries
	}
	return r, nil
}

// Options turns the parameters into llamacpp.Options.
func (p Params) Options(log *slog.Logger) (llamacpp.Options, error) {
	r, err := p.retry()
	if err != nil {
		return llamacpp.Options{}, err
	}
	key := p.APIKey
	if p.APIKeyEnv != "" {
		if key = os.Getenv(p.APIKeyEnv); key == "" {
			return llamacpp.Options{}, fmt.Errorf("llamacpp backend: api_key_env %s is empty or unset", p.APIKeyEnv)
		}
	}
	return llamacpp.Options{URL: p.URL, APIKey: key, Name: p.Name, VocabFile: p.VocabFile, TopK: p.TopK,
		FullDist: p.FullDist, Concurrency: p.Concurrency, Retry: r, Logger: log}, nil
}

// Factory connects to the server the parameters name.
func Factory(log *slog.Logger) plugin.BackendFactory {
	return func(ctx context.Context, params string) (backend.Backend, error) {
		p, err := ParseParams(params)
		if err != nil {
			return nil, err
		}
		o, err := p.Options(log)
		if err != nil {
			return nil, err
		}
		return llamacpp.New(ctx, o)
	}
}

// Serve serves the llamacpp backend until the host is done.
func Serve(opts ...plugin.ServeOpt) {
	log := plugin.Logger(slog.LevelInfo)
	base := []plugin.ServeOpt{
		plugin.WithName(Name), plugin.WithVersion(builtin.Version), plugin.WithLogger(log),
		plugin.WithDescription("a model served by llama.cpp's llama-server (HTTP, /completion with n_probs)"),
		plugin.WithParamsHelp(`a server URL, or {"url": URL, "api_key_env": VAR, "vocab_file": GGUF, "top_k": N, "full_dist": BOOL, "concurrency": N, "timeout": "60s", "retries": N}`),
	}
	plugin.ServeBackendFactory(Factory(log), append(base, opts...)...)
}
