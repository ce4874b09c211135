// Package openaibackend serves the openai backend (a model behind an
// OpenAI-compatible completions API: vLLM, SGLang, llama.cpp, Ollama,
// bacoctl serve) as a backend plugin; the binary plugins/backends/openai
// calls Serve.
//
// The host's parameter string is a JSON object:
//
//	{"base_url": "http://127.0.0.1:8000/v1", "model": "Qwen/Qwen2.5-0.5B-Instruct",
//	 "api_key_env": "VLLM_API_KEY", "vocab_file": "/models/qwen2.5-vocab.gguf",
//	 "max_top_k": 20, "prompts": "auto", "extra": {"top_k": 1},
//	 "context_len": 32768, "concurrency": 8, "timeout": "60s", "retries": 4}
package openaibackend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/baco-go/baco/backends/openai"
	"github.com/baco-go/baco/backends/remote"
	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/plugins/builtin"
	"github.com/baco-go/baco/sdk/plugin"
)

// Name is the plugin's name.
const Name = "openai"

// Params are the plugin's parameters.
type Params struct {
	// BaseURL is the API root, e.g. "http://127.0.0.1:8000/v1".
	BaseURL string `json:"base_url"`
	// APIKey is sent as a Bearer token (prefer APIKeyEnv).
	APIKey string `json:"api_key,omitempty"`
	// APIKeyEnv names an environment variable holding the API key.
	APIKeyEnv string `json:"api_key_env,omitempty"`
	// Organization is sent as OpenAI-Organization.
	Organization string `json:"organization,omitempty"`
	// Model is the served model id.
	Model string `json:"model,omitempty"`
	// Name is the model name Info reports.
	Name string `json:"name,omitempty"`
	// MaxTopK is the server's top-logprobs cap.
	MaxTopK int `json:"max_top_k,omitempty"`
	// TopK is the default number of candidates.
	TopK int `json:"top_k,omitempty"`
	// Prompts is "auto", "tokens" or "text".
	Prompts string `json:"prompts,omitempty"`
	// Extra fields are set in every completions request.
	Extra map[string]any `json:"extra,omitempty"`
	// VocabFile is a local GGUF with the served model's vocabulary.
	VocabFile string `json:"vocab_file,omitempty"`
	// Tokenizer "llamacpp" reads the vocabulary from a llama.cpp server.
	Tokenizer string `json:"tokenizer,omitempty"`
	// TokenizerURL is that server's URL.
	TokenizerURL string `json:"tokenizer_url,omitempty"`
	// ContextLen is the model's context length when the server does not say.
	ContextLen int `json:"context_len,omitempty"`
	// Concurrency is the most requests in flight.
	Concurrency int `json:"concurrency,omitempty"`
	// Timeout bounds one request, e.g. "60s".
	Timeout string `json:"timeout,omitempty"`
	// Retries is the most tries of one request.
	Retries int `json:"retries,omitempty"`
}

// ParseParams parses the JSON parameter string.
func ParseParams(s string) (Params, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") {
		return Params{}, errors.New(`openai backend: the parameter string must be a JSON object {"base_url": URL, "vocab_file": GGUF, ...}`)
	}
	var p Params
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Params{}, fmt.Errorf("openai backend: parameters: %w", err)
	}
	if p.BaseURL == "" {
		return Params{}, errors.New(`openai backend: parameters: "base_url" is required`)
	}
	if p.MaxTopK < 0 || p.TopK < 0 || p.Concurrency < 0 || p.Retries < 0 || p.ContextLen < 0 {
		return Params{}, errors.New("openai backend: parameters: numbers must not be negative")
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
			return r, fmt.Errorf("openai backend: parameters: timeout %q: want a positive duration like \"60s\"", p.Timeout)
		}
		r.Timeout = d
	}
	if p.Retries > 0 {
		r.Attempts = p.Retries
	}
	return r, nil
}

// Options turns the parameters into openai.Options.
func (p Params) Options(log *slog.Logger) (openai.Options, error) {
	r, err := p.retry()
	if err != nil {
		return openai.Options{}, err
	}
	key := p.APIKey
	if p.APIKeyEnv != "" {
		if key = os.Getenv(p.APIKeyEnv); key == "" {
			return openai.Options{}, fmt.Errorf("openai backend: api_key_env %s is empty or unset", p.APIKeyEnv)
		}
	}
	return openai.Options{BaseURL: p.BaseURL, APIKey: key, Organization: p.Organization, Model: p.Model, Name: p.Name,
		MaxTopK: p.MaxTopK, TopK: p.TopK, Prompts: openai.PromptMode(p.Prompts), Extra: p.Extra,
		VocabFile: p.VocabFile, Tokenizer: p.Tokenizer, TokenizerURL: p.TokenizerURL, ContextLen: p.ContextLen,
		Concurrency: p.Concurrency, Retry: r, Logger: log}, nil
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
		return openai.New(ctx, o)
	}
}

// Serve serves the openai backend until the host is done.
func Serve(opts ...plugin.ServeOpt) {
	log := plugin.Logger(slog.LevelInfo)
	base := []plugin.ServeOpt{
		plugin.WithName(Name), plugin.WithVersion(builtin.Version), plugin.WithLogger(log),
		plugin.WithDescription("a model behind an OpenAI-compatible /v1/completions (vLLM, SGLang, llama.cpp, Ollama, bacoctl serve)"),
		plugin.WithParamsHelp(`{"base_url": URL, "model": ID, "vocab_file": GGUF, "api_key_env": VAR, "max_top_k": N, "prompts": "auto|tokens|text", "extra": {...}, "context_len": N, "concurrency": N, "timeout": "60s", "retries": N}`),
	}
	plugin.ServeBackendFactory(Factory(log), append(base, opts...)...)
}
