package decode

import (
	"context"
	"testing"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/backend/backendtest"
	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/core/sample"
)

// constBackend is a zero-cost backend: every Step returns the same
// precomputed distribution, so a benchmark measures the loop alone.
type constBackend struct {
	*backendtest.Fake
	d    dist.Dist
	outs []backend.StepOutput
	next backend.SeqID
}

func (c *constBackend) Open(context.Context) (backend.SeqID, error) { c.next++; return c.next, nil }
func (c *constBackend) Fork(context.Context, backend.SeqID) (backend.SeqID, error) {
	c.next++
	return c.next, nil
}
func (c *constBackend) Free(context.Context, backend.SeqID) error { return nil }
func (c *constBackend) Step(_ context.Context, in []backend.StepInput) ([]backend.StepOutput, error) {
	for len(c.outs) < len(in) {
		c.outs = append(c.outs, backend.StepOutput{Dists: []dist.Dist{c.d}})
	}
	return c.outs[:len(in)], nil
}

func newConst(name string, salt string) *constBackend {
	f := backendtest.New(name, nil)
	logits := backendtest.HashLogits(len(f.Vocabulary), salt)([]int32{1})
	logits[2] = -100 // never EOS
	return &constBackend{Fake: f, d: dist.FromLogits(logits, 0)}
}

// BenchmarkLoop measures the decode loop's own cost per token (router,
// sampling, bookkeeping) with backends that cost nothing.
func BenchmarkLoop(b *testing.B) {
	for _, tc := range []struct {
		name   string
		router string
		n      int
	}{
		{"p-punc/n=1", "p-punc:0.5", 1},
		{"p-punc/n=16", "p-punc:0.5", 16},
		{"rand/n=1", "rand:0.5", 1},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r, err := route.Parse(tc.router)
			if err != nil {
				b.Fatal(err)
			}
			d, err := New(context.Background(), Config{Base: newConst("base", "b"), Aligned: newConst("aligned", "a"), Router: r})
			if err != nil {
				b.Fatal(err)
			}
			const tokens = 256
			req := Request{BasePrompt: []int32{1}, AlignedPrompt: []int32{1}, N: tc.n, MaxTokens: tokens,
				BaseSampling: sample.Default(), AlignedSampling: sample.Default()}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req.Seed = uint64(i)
				if _, err := d.Generate(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tokens*tc.n), "ns/token")
		})
	}
}
