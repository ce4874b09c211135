package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/baco-go/baco/engine/llama"
)

// Embed returns the mean over ids of the model's final (output-normed)
// hidden state: a text embedding of Dim floats. The prefix (for example
// BOS) is read first as context and not pooled. It runs in a sequence of
// its own that is dropped afterwards.
func (e *Engine) Embed(ctx context.Context, prefix, ids []int32) ([]float32, error) {
	if len(ids) == 0 {
		return nil, errors.New("engine: embed: no tokens")
	}
	for _, x := range [][]int32{prefix, ids} {
		if err := e.checkIDs(x); err != nil {
			return nil, fmt.Errorf("engine: embed: %w", err)
		}
	}
	c := e.model.NewCache()
	out := make([][]float32, 1)
	if len(prefix) > 0 {
		if err := e.model.Forward(ctx, []llama.Batch{{Cache: c, Tokens: prefix}}, out); err != nil {
			return nil, fmt.Errorf("engine: embed: prefix: %w", err)
		}
	}
	if err := e.model.Forward(ctx, []llama.Batch{{Cache: c, Tokens: ids, Embed: true}}, out); err != nil {
		return nil, fmt.Errorf("engine: embed: %w", err)
	}
	return out[0], nil
}
