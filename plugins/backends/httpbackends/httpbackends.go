// Package httpbackends serves baco's HTTP backends as plugins: llama.cpp's
// server (backends/llamacpp) and OpenAI-compatible servers
// (backends/openai). The binaries plugins/backends/llamacpp and
// plugins/backends/openai and bacoctl's hidden `plugins serve-backend`
// subcommand call ServeLlamaCpp and ServeOpenAI.
//
// The parameter string is the server's URL, or a JSON object with the
// backend's options (see LlamaCppParams and OpenAIParams). API keys are
// best given by the name of an environment variable (api_key_env): the
// plugin inherits the host's environment.
package httpbackends

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
	"github.com/baco-go/baco/backends/openai"
	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/plugins/builtin"
	"github.com/baco-go/baco/sdk/plugin"
)

// Plugin names.
const (
	LlamaCppName = "llamacpp"
	OpenAIName   = "openai"
)

// LlamaCppParams are the llamacpp plugin's parameters (llamacpp.Options).
type LlamaCppParams struct {
	URL         string `json:"url"`
	APIKeyEnv   string `json:"api_key_env,omitempty"`
	Name        string `json:"name,omitempty"`
	TopK        int    `json:"top_k,omitempty"`
	FullDist    bool   `json:"full_dist,omitempty"`
	Concurrency int    `json:"concurrency,omitempty"`
	VocabFile   string `json:"vocab_file,omitempty"`
	// LoadWait is a Go duration, e.g. "5m".
	LoadWait string `json:"load_wait,omitempty"`
}

// OpenAIParams are the openai plugin's parameters (openai.Options).
type OpenAIParams struct {
	BaseURL      string         `json:"base_url"`
	APIKeyEnv    string         `json:"api_key_env,omitempty"`
	Organization string         `json:"organization,omitempty"`
	Model        string         `json:"model,omitempty"`
	Name         string         `json:"name,omitempty"`
	MaxTopK      int            `json:"max_top_k,omitempty"`
	TopK         int            `json:"top_k,omitempty"`
	Prompts      string         `json:"prompts,omitempty"`
	Extra        map[string]any `json:"extra,omitempty"`
	VocabFile    string         `json:"vocab_file,omitempty"`
	Tokenizer    string         `json:"tokenizer,omitempty"`
	TokenizerURL string         `json:"tokenizer_url,omitempty"`
	ContextLen   int            `json:"context_len,omitempty"`
	Concurrency  int            `json:"concurrency,omitempty"`
}

// decode parses a parameter string: a bare URL (stored by setURL) or a
// JSON object with unknown fields refused.
func decode(plugin, s string, v any, setURL func(string)) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return fmt.Errorf("%s backend: no server: the parameter string must be a URL or a JSON object", plugin)
	}
	if !strings.HasPrefix(s, "{") {
		setURL(s)
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s backend: parameters: %w", plugin, err)
	}
	return nil
}

// apiKey reads the key named by env ("" for none).
func apiKey(plugin, env string) (string, error) {
	if env == "" {
		return "", nil
	}
	k, ok := os.LookupEnv(env)
	if !ok {
		return "", fmt.Errorf("%s backend: api_key_env %s is not set in the plugin's environment", plugin, env)
	}
	return k, nil
}

// ParseLlamaCpp turns a parameter string into llamacpp.Options.
func ParseLlamaCpp(s string, log *slog.Logger) (llamacpp.Options, error) {
	var p LlamaCppParams
	if err := decode(LlamaCppName, s, &p, func(u string) { p.URL = u }); err != nil {
		return llamacpp.Options{}, err
	}
	if p.URL == "" {
		return llamacpp.Options{}, errors.New(`llamacpp backend: "url" is required`)
	}
	key, err := apiKey(LlamaCppName, p.APIKeyEnv)
	if err != nil {
		return llamacpp.Options{}, err
	}
	o := llamacpp.Options{URL: p.URL, APIKey: key, Name: p.Name, TopK: p.TopK, FullDist: p.FullDist,
		Concurrency: p.Concurrency, VocabFile: p.VocabFile, Logger: log}
	if p.LoadWait != "" {
		if o.LoadWait, err = time.ParseDuration(p.LoadWait); err != nil || o.LoadWait < 0 {
			return llamacpp.Options{}, fmt.Errorf("llamacpp backend: load_wait %q: want a duration such as \"5m\"", p.LoadWait)
		}
	}
	return o, nil
}

// ParseOpenAI turns a parameter string into openai.Options.
func ParseOpenAI(s string, log *slog.Logger) (openai.Options, error) {
	var p OpenAIParams
	if err := decode(OpenAIName, s, &p, func(u string) { p.BaseURL = u }); err != nil {
		return openai.Options{}, err
	}
	if p.BaseURL == "" {
		return openai.Options{}, errors.New(`openai backend: "base_url" is required`)
	}
	key, err := apiKey(OpenAIName, p.APIKeyEnv)
	if err != nil {
		return openai.Options{}, err
	}
	switch openai.PromptMode(p.Prompts) {
	case "", openai.PromptAuto, openai.PromptTokens, openai.PromptText:
	default:
		return openai.Options{}, fmt.Errorf("openai backend: prompts %q: want %q, %q or %q", p.Prompts, openai.PromptAuto, openai.PromptTokens, openai.PromptText)
	}
	return openai.Options{BaseURL: p.BaseURL, APIKey: key, Organization: p.Organization, Model: p.Model, Name: p.Name,
		MaxTopK: p.MaxTopK, TopK: p.TopK, Prompts: openai.PromptMode(p.Prompts), Extra: p.Extra, VocabFile: p.VocabFile,
		Tokenizer: p.Tokenizer, TokenizerURL: p.TokenizerURL, ContextLen: p.ContextLen, Concurrency: p.Concurrency, Logger: log}, nil
}

// ServeLlamaCpp serves the llamacpp backend until the host is done.
func ServeLlamaCpp(opts ...plugin.ServeOpt) {
	log := plugin.Logger(slog.LevelInfo)
	f := func(ctx context.Context, params string) (backend.Backend, error) {
		o, err := ParseLlamaCpp(params, log)
		if err != nil {
			return nil, err
		}
		return llamacpp.New(ctx, o)
	}
	plugin.ServeBackendFactory(f, append([]plugin.ServeOpt{
		plugin.WithName(LlamaCppName), plugin.WithVersion(builtin.Version), plugin.WithLogger(log),
		plugin.WithDescription("a llama.cpp server (llama-server) over HTTP"),
		plugin.WithParamsHelp(`the server URL, or {"url", "api_key_env", "name", "top_k", "full_dist", "concurrency", "vocab_file", "load_wait"}`),
	}, opts...)...)
}

// ServeOpenAI serves the openai backend until the host is done.
func ServeOpenAI(opts ...plugin.ServeOpt) {
	log := plugin.Logger(slog.LevelInfo)
	f := func(ctx context.Context, params string) (backend.Backend, error) {
		o, err := ParseOpenAI(params, log)
		if err != nil {
			return nil, err
		}
		return openai.New(ctx, o)
	}
	plugin.ServeBackendFactory(f, append([]plugin.ServeOpt{
		plugin.WithName(OpenAIName), plugin.WithVersion(builtin.Version), plugin.WithLogger(log),
		plugin.WithDescription("an OpenAI-compatible completions server (vLLM, SGLang, llama.cpp, Ollama)"),
		plugin.WithParamsHelp(`the API base URL, or {"base_url", "api_key_env", "model", "max_top_k", "top_k", "prompts", "extra", "vocab_file", "tokenizer", "tokenizer_url", "context_len", "concurrency"}`),
	}, opts...)...)
}
