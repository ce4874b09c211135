package dist

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkFromLogits is the per-step cost of turning a SmolLM2-sized
// vocabulary's logits into a distribution (log-softmax, entropy, top 40).
func BenchmarkFromLogits(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	logits := make([]float32, 49152)
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 3)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		FromLogits(logits, 40)
	}
}
