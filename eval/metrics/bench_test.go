package metrics

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// benchSamples is 16 samples of 200 words over a 300-word vocabulary, the
// size of one prompt's group in a typical sweep.
func benchSamples() ([][]string, []string) {
	r := rand.New(rand.NewPCG(1, 2))
	vocab := make([]string, 300)
	for i := range vocab {
		vocab[i] = strings.Repeat(string(rune('a'+i%26)), 1+i/26)
	}
	toks := make([][]string, 16)
	texts := make([]string, 16)
	for i := range toks {
		for range 200 {
			toks[i] = append(toks[i], vocab[r.IntN(len(vocab))])
		}
		texts[i] = strings.Join(toks[i], " ")
	}
	return toks, texts
}

func BenchmarkLexical(b *testing.B) {
	toks, texts := benchSamples()
	b.Run("distinct-4", func(b *testing.B) {
		for b.Loop() {
			Distinct(toks, 4)
		}
	})
	b.Run("entropy-4", func(b *testing.B) {
		for b.Loop() {
			NgramEntropy(toks, 4)
		}
	})
	b.Run("self-bleu-4", func(b *testing.B) {
		for b.Loop() {
			SelfBLEU(toks, 4)
		}
	})
	b.Run("rouge-l-dist", func(b *testing.B) {
		for b.Loop() {
			RougeLDistance(toks)
		}
	})
	b.Run("compression-ratio", func(b *testing.B) {
		for b.Loop() {
			CompressionRatio(texts)
		}
	})
	b.Run("tokenize", func(b *testing.B) {
		for b.Loop() {
			for _, t := range texts {
				Tokenize(t)
			}
		}
	})
}

func BenchmarkSemantic(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	emb := make([][]float64, 16)
	for i := range emb {
		emb[i] = make([]float64, 512)
		for j := range emb[i] {
			emb[i][j] = r.Float64()
		}
	}
	b.Run("vendi", func(b *testing.B) {
		for b.Loop() {
			if _, err := Vendi(emb); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cosine", func(b *testing.B) {
		for b.Loop() {
			CosineDistance(emb)
		}
	})
}
