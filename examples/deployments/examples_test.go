// Package deployments holds example deployment configs; its test checks
// them against the backend plugins' parameter parsers.
package deployments

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/baco-go/baco/pipeline"
	"github.com/baco-go/baco/plugins/backends/httpbackends"
)

type config struct {
	Models map[string]struct {
		Backend string         `yaml:"backend"`
		Params  map[string]any `yaml:"params"`
	} `yaml:"models"`
	Pipelines []struct {
		Name    string `yaml:"name"`
		Base    string `yaml:"base"`
		Aligned string `yaml:"aligned"`
		Router  string `yaml:"router"`
	} `yaml:"pipelines"`
}

func TestExamples(t *testing.T) {
	files, _ := filepath.Glob("*.yaml")
	if len(files) != 3 {
		t.Fatalf("%d example files, want 3", len(files))
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var c config
			dec := yaml.NewDecoder(strings.NewReader(string(b)))
			if err := dec.Decode(&c); err != nil {
				t.Fatal(err)
			}
			if len(c.Models) == 0 || len(c.Pipelines) == 0 {
				t.Fatalf("no models or pipelines")
			}
			for name, m := range c.Models {
				if env, ok := m.Params["api_key_env"].(string); ok {
					t.Setenv(env, "example-key") // the plugin reads the key from there
				}
				params, err := json.Marshal(m.Params)
				if err != nil {
					t.Fatal(err)
				}
				switch m.Backend {
				case httpbackends.LlamaCppName:
					_, err = httpbackends.ParseLlamaCpp(string(params), slog.Default())
				case httpbackends.OpenAIName:
					_, err = httpbackends.ParseOpenAI(string(params), slog.Default())
				default:
					t.Errorf("model %s: unknown backend %q", name, m.Backend)
				}
				if err != nil {
					t.Errorf("model %s: %v", name, err)
				}
			}
			for _, p := range c.Pipelines {
				for _, ref := range []string{p.Base, p.Aligned} {
					if _, ok := c.Models[ref]; !ok && !strings.HasSuffix(ref, ".gguf") {
						t.Errorf("pipeline %s: %q is neither a model of models: nor a GGUF path", p.Name, ref)
					}
				}
				if _, err := pipeline.BuildRouter(pipeline.RouterSpec{Name: p.Router}); err != nil {
					t.Errorf("pipeline %s: %v", p.Name, err)
				}
			}
		})
	}
}
