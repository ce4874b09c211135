package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/engine"
	"github.com/baco-go/baco/pipeline"
)

// opener resolves model references for this invocation: a path to a .gguf
// file loads the embedded engine.
func (a *app) opener() pipeline.Opener {
	return func(ctx context.Context, ref string) (backend.Backend, error) {
		if !strings.HasSuffix(strings.ToLower(ref), ".gguf") && !fileExists(ref) {
			return nil, usagef("model %q: not a .gguf file that exists", ref)
		}
		if _, err := os.Stat(ref); err != nil {
			return nil, usagef("model %q: %w", ref, err)
		}
		var opts []engine.Option
		if n := a.v.GetInt("context-len"); n > 0 {
			opts = append(opts, engine.WithContextLen(n))
		}
		if n := a.v.GetInt("threads"); n > 0 {
			opts = append(opts, engine.WithThreads(n))
		}
		opts = append(opts, engine.WithLogger(a.log))
		e, err := engine.Load(ref, opts...)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", ref, err)
		}
		return e, nil
	}
}
