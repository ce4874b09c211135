package engine

import (
	"context"
	"log/slog"
	"testing"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/modelgen"
	"github.com/baco-go/baco/internal/testdata"
)

// BenchmarkStep measures Step end to end (forward pass, full log-softmax,
// entropy, top-40 with pieces) for 1 and 8 sequences, on stories260K and on
// a random SmolLM2-135M-shaped Q8_0 model. tok/s counts every sequence's
// token.
func BenchmarkStep(b *testing.B) {
	models := []struct {
		name string
		path func(b *testing.B) string
	}{
		{"stories260K", func(b *testing.B) string { return testdata.Path(b, "models/stories260K.gguf") }},
		{"smollm135M-Q8_0", func(b *testing.B) string {
			return modelgen.WriteTemp(b, modelgen.Options{Shape: modelgen.SmolLM2_135M(), Type: gguf.TypeQ8_0, Seed: 1})
		}},
	}
	ctx := context.Background()
	for _, md := range models {
		b.Run(md.name, func(b *testing.B) {
			e, err := Load(md.path(b), WithThreads(2), WithLogger(discard()))
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			for _, n := range []int{1, 8} {
				b.Run(map[int]string{1: "batch1", 8: "batch8"}[n], func(b *testing.B) {
					in := make([]backend.StepInput, n)
					for i := range in {
						seq, _ := e.Open(ctx)
						defer e.Free(ctx, seq)
						in[i] = backend.StepInput{Seq: seq, Tokens: []int32{1, int32(10 + i), 20, 30}}
					}
					if _, err := e.Step(ctx, in); err != nil {
						b.Fatal(err)
					}
					for it := 0; b.Loop(); it++ {
						for i := range in {
							// Positions 4..100, then back (Truncate
							// leaves one token to recompute, rarely).
							if it%96 == 95 {
								if err := e.Truncate(ctx, in[i].Seq, 4); err != nil {
									b.Fatal(err)
								}
							}
							in[i].Tokens = []int32{int32(40 + i)}
						}
						if _, err := e.Step(ctx, in); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "tok/s")
				})
			}
		})
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
