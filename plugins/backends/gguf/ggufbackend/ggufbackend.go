// Package ggufbackend serves the embedded GGUF engine (package engine) as a
// backend plugin: the binary plugins/backends/gguf and bacoctl's hidden
// `plugins serve-backend gguf` subcommand both call Serve.
//
// The host's parameter string names the model: either a path to a .gguf
// file, or a JSON object {"model": PATH, "context_len": N, "threads": N}.
package ggufbackend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/engine"
	"github.com/baco-go/baco/plugins/builtin"
	"github.com/baco-go/baco/sdk/plugin"
)

// Name is the plugin's name.
const Name = "gguf"

// Params are the gguf backend's parameters.
type Params struct {
	// Model is the path of the .gguf file or Hugging Face model folder.
	Model string `json:"model"`
	// ContextLen overrides the context length (0: the model's).
	ContextLen int `json:"context_len,omitempty"`
	// Threads is the number of compute threads (0: all cores).
	Threads int `json:"threads,omitempty"`
}

// ParseParams parses a parameter string: a path, or a JSON object.
func ParseParams(s string) (Params, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Params{}, errors.New(`gguf backend: no model: the parameter string must be a .gguf path or {"model": PATH}`)
	}
	if !strings.HasPrefix(s, "{") {
		return Params{Model: s}, nil
	}
	var p Params
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Params{}, fmt.Errorf("gguf backend: parameters %s: %w", s, err)
	}
	if p.Model == "" {
		return Params{}, fmt.Errorf(`gguf backend: parameters %s: "model" is required`, s)
	}
	if p.ContextLen < 0 || p.Threads < 0 {
		return Params{}, fmt.Errorf("gguf backend: parameters %s: context_len and threads must not be negative", s)
	}
	return p, nil
}

// Encode returns the parameter string for p (JSON).
func (p Params) Encode() string {
	b, _ := json.Marshal(p)
	return string(b)
}

// Factory loads the model the parameters name; log receives the engine's
// logs.
func Factory(log *slog.Logger) plugin.BackendFactory {
	return func(_ context.Context, params string) (backend.Backend, error) {
		p, err := ParseParams(params)
		if err != nil {
			return nil, err
		}
		opts := []engine.Option{engine.WithLogger(log)}
		if p.ContextLen > 0 {
			opts = append(opts, engine.WithContextLen(p.ContextLen))
		}
		if p.Threads > 0 {
			opts = append(opts, engine.WithThreads(p.Threads))
		}
		e, err := engine.LoadPath(p.Model, opts...)
		if err != nil {
			return nil, err
		}
		return e, nil
	}
}

// Serve serves the gguf backend until the host is done.
func Serve(opts ...plugin.ServeOpt) {
	log := plugin.Logger(slog.LevelInfo)
	base := []plugin.ServeOpt{
		plugin.WithName(Name), plugin.WithVersion(builtin.Version), plugin.WithLogger(log),
		plugin.WithDescription("embedded GGUF engine (llama-family models, pure Go)"),
		plugin.WithParamsHelp(`a .gguf path, or {"model": PATH, "context_len": N, "threads": N}`),
	}
	plugin.ServeBackendFactory(Factory(log), append(base, opts...)...)
}
