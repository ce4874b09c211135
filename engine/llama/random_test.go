package llama

import (
	"fmt"
	"math"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
)

// TestRandomModelsMatchFloat64Reference checks the forward pass on random
// F32 models of both families (qwen2: q/k/v bias and NeoX rope, grouped
// heads; llama: normal rope, untied output) against the naive float64
// reference, at every position of a 40-token sequence.
func TestRandomModelsMatchFloat64Reference(t *testing.T) {
	cases := []genSpec{
		{arch: "qwen2", layers: 2, dim: 64, ff: 160, heads: 4, kvHeads: 2, vocab: 300, ctx: 256, ropeBase: 1e6, tied: true, seed: 1},
		{arch: "llama", layers: 2, dim: 96, ff: 256, heads: 6, kvHeads: 3, vocab: 260, ctx: 256, ropeBase: 10000, seed: 2},
		{arch: "llama", layers: 1, dim: 64, ff: 128, heads: 4, kvHeads: 4, vocab: 100, ctx: 64, ropeBase: 500, tied: true, seed: 3},
	}
	for _, spec := range cases {
		t.Run(fmt.Sprintf("%s/seed%d", spec.arch, spec.seed), func(t *testing.T) {
			m, f := genModel(t, spec, gguf.TypeF32, 2)
			ref := newRefModel(t, f)
			toks := randTokens(spec.seed, 40, spec.vocab)
			// Prefill 25 tokens in one chunk, then 15 one by one.
			c := m.NewCache()
			got := forward1(t, m, c, toks[:25], true)
			for _, tok := range toks[25:] {
				got = append(got, forward1(t, m, c, []int32{tok}, false)...)
			}
			want := ref.forward(toks)
			V := spec.vocab
			var worst, spread float64
			for p := range toks {
				lg := logSoftmax32(got[p*V : (p+1)*V])
				lw := refLogSoftmax(want[p])
				for id := range V {
					worst = math.Max(worst, math.Abs(lg[id]-lw[id]))
					spread = math.Max(spread, math.Abs(lw[id]-lw[0]))
				}
			}
			t.Logf("max |Δ log-prob| = %.3g (log-probs spread over %.1f nats)", worst, spread)
			if spread < 2 {
				t.Fatalf("degenerate model: log-probs spread only %.2f nats", spread)
			}
			if worst > 1e-4 {
				t.Errorf("max |Δ log-prob| vs float64 reference = %.3g, want ≤ 1e-4", worst)
			}
		})
	}
}
