// Package score computes the model-based measures of bacoctl eval: the
// per-token log-likelihood of a response under a model (quality), text
// embeddings (semantic diversity) from an OpenAI-compatible /v1/embeddings
// endpoint or, offline, from a GGUF model through the backend interface,
// and a judge score from an OpenAI-compatible chat endpoint.
package score

import (
	"context"
	"fmt"

	"github.com/baco-go/baco/core/backend"
)

// Chunk bounds how many tokens one Step call appends with AllPositions, so
// the per-position distributions held at once stay small (chunk × vocab).
const Chunk = 64

// LogProbs returns, for every response, the natural-log probability of each
// of its tokens under be given prompt and the response's earlier tokens.
// The prompt is prefilled once and forked per response. An empty response
// gets an empty slice. be must return full distributions or top-k lists
// that contain the tokens (a token outside a top-k list is an error).
func LogProbs(ctx context.Context, be backend.Backend, prompt []int32, responses [][]int32) ([][]float64, error) {
	if len(prompt) == 0 {
		return nil, fmt.Errorf("score: log-likelihood needs a non-empty prompt")
	}
	root, err := be.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("score: open: %w", err)
	}
	defer be.Free(context.WithoutCancel(ctx), root)
	out, err := be.Step(ctx, []backend.StepInput{{Seq: root, Tokens: prompt, TopK: 1}})
	if err != nil {
		return nil, fmt.Errorf("score: prefill the prompt: %w", err)
	}
	if len(out) != 1 || len(out[0].Dists) == 0 {
		return nil, fmt.Errorf("score: prefill returned no distribution")
	}
	first := out[0].Dists[len(out[0].Dists)-1]
	res := make([][]float64, len(responses))
	for i, r := range responses {
		if len(r) == 0 {
			res[i] = []float64{}
			continue
		}
		lp := make([]float64, 0, len(r))
		v, ok := first.LogProbOf(r[0])
		if !ok {
			return nil, fmt.Errorf("score: response %d token 0 (id %d): the model returned no log-probability for it (a top-k backend?)", i, r[0])
		}
		lp = append(lp, float64(v))
		if len(r) > 1 {
			seq, err := be.Fork(ctx, root)
			if err != nil {
				return nil, fmt.Errorf("score: fork for response %d: %w", i, err)
			}
			err = func() error {
				defer be.Free(context.WithoutCancel(ctx), seq)
				// The distribution after r[j] scores r[j+1]; the last token
				// need not be appended.
				feed := r[:len(r)-1]
				for lo := 0; lo < len(feed); lo += Chunk {
					hi := min(lo+Chunk, len(feed))
					o, err := be.Step(ctx, []backend.StepInput{{Seq: seq, Tokens: feed[lo:hi], TopK: 1, AllPositions: true}})
					if err != nil {
						return fmt.Errorf("score: response %d tokens %d..%d: %w", i, lo, hi, err)
					}
					if len(o) != 1 || len(o[0].Dists) != hi-lo {
						return fmt.Errorf("score: response %d: step returned %d distributions for %d tokens (the backend must support all positions)", i, len(o[0].Dists), hi-lo)
					}
					for k := range o[0].Dists {
						id := r[lo+k+1]
						v, ok := o[0].Dists[k].LogProbOf(id)
						if !ok {
							return fmt.Errorf("score: response %d token %d (id %d): the model returned no log-probability for it", i, lo+k+1, id)
						}
						lp = append(lp, float64(v))
					}
				}
				return nil
			}()
			if err != nil {
				return nil, err
			}
		}
		res[i] = lp
	}
	return res, nil
}
