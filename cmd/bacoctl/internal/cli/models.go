package cli

import (
	"context"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/pipeline"
)

// opener resolves model references for this invocation: a .gguf file, a
// Hugging Face model folder or an hf:REPO reference (pulled on first use)
// loads into the embedded engine.
func (a *app) opener() pipeline.Opener {
	return func(ctx context.Context, ref string) (backend.Backend, error) {
		return a.loadModel(ctx, ref)
	}
}
