package llama

import (
	"context"
	"os"
	"testing"
)

// BenchmarkLongContextDecode (needs $BACO_BENCH_GGUF) decodes one token at positions 1024..1088, where
// attention over the cache is a large share of the work.
func BenchmarkLongContextDecode(b *testing.B) {
	p := os.Getenv(benchEnv)
	if p == "" {
		b.Skip("set " + benchEnv)
	}
	m, _ := openModel(b, p, 2)
	V := m.Config().VocabSize
	c := m.NewCache()
	out := make([][]float32, 1)
	ctx := context.Background()
	if err := m.Forward(ctx, []Batch{{Cache: c, Tokens: randTokens(1, 1024, V)}}, out); err != nil {
		b.Fatal(err)
	}
	tok := []int32{5}
	for b.Loop() {
		if c.Len() >= 1088 {
			c.Truncate(1024)
		}
		if err := m.Forward(ctx, []Batch{{Cache: c, Tokens: tok}}, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
}
