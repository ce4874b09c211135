package cli

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/hub"
	"github.com/baco-go/baco/pipeline"
	"github.com/baco-go/baco/pluginhost"
	"github.com/baco-go/baco/sdk/plugin"
)

// opener resolves model references for this invocation. A .gguf file, a
// Hugging Face model folder or an hf:REPO reference (pulled on first use)
// is served by the gguf backend plugin — bacoctl re-executing itself, or a
// baco-backend-gguf found in a plugin directory — unless --in-process loads
// it into this process. NAME:PARAMS starts the backend plugin NAME, e.g.
// llamacpp:http://127.0.0.1:8080.
func (a *app) opener() pipeline.Opener {
	return func(ctx context.Context, ref string) (backend.Backend, error) {
		spec, named, err := a.namedModel(ref)
		if err != nil {
			return nil, err
		}
		if !named && !isPluginRef(ref) {
			if a.v.GetBool("in-process") {
				return a.loadModel(ctx, ref)
			}
			// A local file or folder (hub references pulled first),
			// served by the gguf plugin through pluginOpener.
			if ref, err = a.resolveModel(ctx, ref); err != nil {
				return nil, err
			}
		}
		h, err := a.host()
		if err != nil {
			return nil, err
		}
		if named {
			return h.Backend(ctx, spec.Backend, spec.params)
		}
		return a.pluginOpener(h)(ctx, ref)
	}
}

// modelSpec is one entry of the config file's "models" map: a name for a
// backend plugin and its parameters, e.g.
//
//	models:
//	  smollm2-base: {backend: llamacpp, params: {url: "http://127.0.0.1:8081"}}
type modelSpec struct {
	Backend string         `mapstructure:"backend"`
	Params  map[string]any `mapstructure:"params"`
	params  string         // Params as the JSON object the plugin receives
}

// namedModel looks ref up in the config's "models" map.
func (a *app) namedModel(ref string) (modelSpec, bool, error) {
	if !a.v.IsSet("models") {
		return modelSpec{}, false, nil
	}
	var specs map[string]modelSpec
	if err := a.v.UnmarshalKey("models", &specs); err != nil {
		return modelSpec{}, false, usagef("config models: %w", err)
	}
	spec, ok := specs[strings.ToLower(ref)]
	if !ok {
		return modelSpec{}, false, nil
	}
	if spec.Backend == "" {
		return modelSpec{}, false, usagef("config models.%s: no backend (e.g. backend: llamacpp)", ref)
	}
	b, err := json.Marshal(spec.Params)
	if err != nil {
		return modelSpec{}, false, usagef("config models.%s.params: %w", ref, err)
	}
	spec.params = string(b)
	return spec, true, nil
}

// localOpener loads models into this process whatever --in-process says
// (for the engine's hidden states, which plugins do not carry).
func (a *app) localOpener() pipeline.Opener {
	return func(ctx context.Context, ref string) (backend.Backend, error) {
		return a.loadModel(ctx, ref)
	}
}

// isPluginRef reports whether ref names a backend plugin with parameters
// (NAME:PARAMS) rather than a file, folder or hub reference.
func isPluginRef(ref string) bool {
	name, _, ok := strings.Cut(ref, ":")
	return ok && !hub.IsHubRef(ref) && !fileExists(ref) && !strings.HasSuffix(strings.ToLower(ref), ".gguf") &&
		!strings.ContainsAny(name, `/\.`)
}

// host returns this invocation's plugin host, starting it on first use;
// Main closes it when the command is done.
func (a *app) host() (*pluginhost.Host, error) {
	if a.plugins != nil {
		return a.plugins, nil
	}
	h, err := a.pluginHost()
	if err != nil {
		return nil, err
	}
	a.plugins = h
	return h, nil
}

// closeHost stops every plugin process this invocation started.
func (a *app) closeHost() {
	if a.plugins != nil {
		a.plugins.Close()
		a.plugins = nil
	}
}

// buildRouter compiles the router of spec: a built-in router, a rule or a
// policy file in process, or else a router plugin of that name (for
// example a third-party "warmup:8:0.3").
func (a *app) buildRouter(ctx context.Context, spec pipeline.RouterSpec) (route.Router, error) {
	r, err := pipeline.BuildRouter(spec)
	if err == nil || spec.Name == "" {
		return r, err
	}
	name, _, _ := strings.Cut(spec.Name, ":")
	if _, builtin := route.Lookup(name); builtin {
		return nil, err
	}
	h, herr := a.host()
	if herr != nil {
		return nil, errors.Join(err, herr)
	}
	if _, ferr := h.Find(plugin.KindRouter, name); ferr != nil {
		return nil, err // the built-in error lists the valid names
	}
	return pluginRouter(ctx, h, spec.Name)
}
