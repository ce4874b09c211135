package hf_test

import (
	"testing"

	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/hf"
	"github.com/baco-go/baco/engine/hf/hftest"
	"github.com/baco-go/baco/engine/modelgen"
)

// BenchmarkOpenSmolLM2Shaped opens a Hugging Face folder with SmolLM2's
// width, heads and vocabulary size (49152 tokens, BF16) but two layers:
// the cost of parsing tokenizer.json and the headers, mapping and
// permuting q/k, per model.
func BenchmarkOpenSmolLM2Shaped(b *testing.B) {
	s := modelgen.SmolLM2_135M()
	s.Layers = 2
	_, dir := twinPair(b, modelgen.Options{Shape: s, Type: gguf.TypeBF16, Seed: 1}, hftest.Options{})
	b.ResetTimer()
	for b.Loop() {
		m, err := hf.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		m.Close()
	}
}
