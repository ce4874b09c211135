package llama

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/baco-go/baco/engine/gguf"
)

// smolLM135M is the shape of SmolLM2-135M (tied embeddings).
var smolLM135M = genSpec{arch: "llama", layers: 30, dim: 576, ff: 1536, heads: 9, kvHeads: 3, vocab: 49152, ctx: 2048, ropeBase: 100000, tied: true, seed: 135}

type benchModel struct {
	name string
	load func(b *testing.B) *Model
}

// benchEnv names an extra GGUF file to benchmark (e.g. one also measured
// with llama-bench, for a like-for-like comparison).
const benchEnv = "BACO_BENCH_GGUF"

// benchModels are stories260K (F32, real weights), a random
// SmolLM2-135M-shaped Q8_0 model generated into a temporary folder, and the
// file named by $BACO_BENCH_GGUF if set.
func benchModels() []benchModel {
	var extra []benchModel
	if p := os.Getenv(benchEnv); p != "" {
		extra = append(extra, benchModel{filepath.Base(p), func(b *testing.B) *Model {
			m, _ := openModel(b, p, 2)
			return m
		}})
	}
	return append(extra, []benchModel{
		{"stories260K", func(b *testing.B) *Model { return loadStories(b, 2) }},
		{"smollm135M-Q8_0", func(b *testing.B) *Model {
			start := time.Now()
			path := filepath.Join(b.TempDir(), "smollm135M-q8_0.gguf")
			writeModel(b, path, smolLM135M, nil, gguf.TypeQ8_0)
			m, _ := openModel(b, path, 2)
			b.Logf("generated %s in %v", path, time.Since(start).Round(time.Millisecond))
			return m
		}},
	}...)
}

// BenchmarkDecode decodes one token per sequence per iteration for batches
// of 1 and 8 sequences, at positions 16..128 (caches are truncated back to
// the 16-token prompt when they reach 128). tok/s counts every sequence's
// token.
func BenchmarkDecode(b *testing.B) {
	for _, bm := range benchModels() {
		b.Run(bm.name, func(b *testing.B) {
			m := bm.load(b)
			V := m.Config().VocabSize
			for _, nseq := range []int{1, 8} {
				b.Run(map[int]string{1: "batch1", 8: "batch8"}[nseq], func(b *testing.B) {
					bs := make([]Batch, nseq)
					out := make([][]float32, nseq)
					for i := range bs {
						bs[i] = Batch{Cache: m.NewCache(), Tokens: randTokens(uint64(i), 16, V)}
					}
					ctx := context.Background()
					if err := m.Forward(ctx, bs, out); err != nil {
						b.Fatal(err)
					}
					next := randTokens(42, 1024, V)
					for i := range bs {
						bs[i].Tokens = []int32{0}
					}
					b.ResetTimer()
					for it := 0; b.Loop(); it++ {
						for i := range bs {
							if bs[i].Cache.Len() >= 128 {
								bs[i].Cache.Truncate(16)
							}
							bs[i].Tokens[0] = next[(it+i)%len(next)]
						}
						if err := m.Forward(ctx, bs, out); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.N*nseq)/b.Elapsed().Seconds(), "tok/s")
				})
			}
		})
	}
}

// BenchmarkPrefill prefills a 128-token prompt into an empty cache per
// iteration.
func BenchmarkPrefill(b *testing.B) {
	for _, bm := range benchModels() {
		b.Run(bm.name, func(b *testing.B) {
			m := bm.load(b)
			toks := randTokens(1, 128, m.Config().VocabSize)
			c := m.NewCache()
			out := make([][]float32, 1)
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				c.Reset()
				if err := m.Forward(ctx, []Batch{{Cache: c, Tokens: toks}}, out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(toks))/b.Elapsed().Seconds(), "tok/s")
		})
	}
}
