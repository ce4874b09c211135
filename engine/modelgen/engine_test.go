package modelgen_test

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/baco-go/baco/core/chat"
	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/llama"
	"github.com/baco-go/baco/engine/modelgen"
	"github.com/baco-go/baco/engine/tensor"
	"github.com/baco-go/baco/engine/tokenizer"
	"github.com/baco-go/baco/internal/testdata"
)

func open(t *testing.T, path string) *gguf.File {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestEngineRunsGeneratedModels loads generated models of both families
// with the engine and checks that the next-token log-probabilities are
// finite and neither flat nor collapsed: the initialisation keeps
// activations of order one.
func TestEngineRunsGeneratedModels(t *testing.T) {
	pool := tensor.NewPool(0)
	defer pool.Close()
	cases := []struct {
		name string
		o    modelgen.Options
	}{
		{"llama-q8_0", modelgen.Options{Shape: modelgen.Shape{Arch: "llama", Dim: 128, Layers: 4, Heads: 4, KVHeads: 2, FF: 256, Vocab: 1000, CtxLen: 128}, Type: gguf.TypeQ8_0, Seed: 1}},
		{"qwen2-q4_k", modelgen.Options{Shape: modelgen.Shape{Arch: "qwen2", Dim: 256, Layers: 3, Heads: 4, KVHeads: 1, FF: 512, Vocab: 800, TiedEmbeddings: true, QKVBias: true}, Type: gguf.TypeQ4_K, Seed: 2}},
		{"llama-f16-scale3", modelgen.Options{Shape: modelgen.Shape{Arch: "llama", Dim: 64, Layers: 8, Heads: 2, KVHeads: 1, FF: 128, Vocab: 500}, Type: gguf.TypeF16, Seed: 3, Scale: 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := open(t, modelgen.WriteTemp(t, tc.o))
			m, err := llama.Load(f, pool)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := tokenizer.FromGGUF(f)
			if err != nil {
				t.Fatalf("tokenizer: %v", err)
			}
			ids := tok.Encode("Once upon a time the little girl said", false, false)
			if len(ids) == 0 {
				t.Fatal("no tokens")
			}
			out := [][]float32{nil}
			if err := m.Forward(context.Background(), []llama.Batch{{Cache: m.NewCache(), Tokens: ids}}, out); err != nil {
				t.Fatal(err)
			}
			logits := out[0]
			lo, hi := slices.Min(logits), slices.Max(logits)
			var mean, sq float64
			for _, v := range logits {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("non-finite logit %v", v)
				}
				mean += float64(v)
			}
			mean /= float64(len(logits))
			for _, v := range logits {
				sq += (float64(v) - mean) * (float64(v) - mean)
			}
			sd := math.Sqrt(sq / float64(len(logits)))
			t.Logf("logits: std %.3f, range [%.2f, %.2f]", sd, lo, hi)
			if sd < 0.1 || sd > 30 {
				t.Errorf("logit std %.3f: activations are not of order one", sd)
			}
		})
	}
}

// TestSyntheticVocabTokenizes loads a synthetic vocabulary with the engine's
// tokenizer: text round-trips, common words are single tokens, and the
// ChatML markers of the chat template are control tokens.
func TestSyntheticVocabTokenizes(t *testing.T) {
	f := open(t, modelgen.WriteTemp(t, modelgen.Options{Shape: modelgen.Shape{Arch: "llama", Dim: 64, Layers: 1, Heads: 2, KVHeads: 2, FF: 64, Vocab: 3000}, Type: gguf.TypeQ8_0}))
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != 3000 || tok.Style() != "bpe" || tok.AddBOS() {
		t.Errorf("vocab %d, style %q, add BOS %v; want 3000, bpe, false", tok.VocabSize(), tok.Style(), tok.AddBOS())
	}
	for _, text := range []string{"Hello, world!\nThe cat sat on the mat.", "naïve café ☕ 123", "  spaces\t\ttabs"} {
		ids := tok.Encode(text, false, false)
		if got := tok.Decode(ids); got != text {
			t.Errorf("round trip %q -> %q", text, got)
		}
	}
	if ids := tok.Encode(" the", false, false); len(ids) != 1 || tok.Piece(ids[0]) != "Ġthe" {
		t.Errorf("\" the\" -> %v, want the single token Ġthe", ids)
	}
	tmplSrc, _ := f.String("tokenizer.chat_template")
	tmpl, err := chat.Parse(tmplSrc)
	if err != nil || tmpl.Family() != "chatml" {
		t.Fatalf("chat template: %v, %v", tmpl, err)
	}
	prompt, err := tmpl.Render([]chat.Message{{Role: "user", Content: "Hi"}}, true, "", "")
	if err != nil {
		t.Fatal(err)
	}
	ids := tok.Encode(prompt, false, true)
	if len(ids) < 2 || ids[0] != 1 || !slices.Contains(ids, 2) || tok.EOT() != 2 {
		t.Errorf("ChatML prompt %q -> %v (EOT %d); want <|im_start|>=1 first and <|im_end|>=2 inside", prompt, ids, tok.EOT())
	}
}

// TestSharedVocabularyFingerprint: a random model built with stories260K's
// vocabulary has the same vocabulary fingerprint as stories260K, so the
// decoder pairs them; a synthetic vocabulary of the same size does not.
func TestSharedVocabularyFingerprint(t *testing.T) {
	src := testdata.Path(t, "models/stories260K.gguf")
	v, err := modelgen.VocabFromFile(src)
	if err != nil {
		t.Fatal(err)
	}
	fingerprint := func(path string) string {
		tok, err := tokenizer.FromGGUF(open(t, path))
		if err != nil {
			t.Fatal(err)
		}
		return tok.Fingerprint()
	}
	want := fingerprint(src)
	shared := fingerprint(modelgen.WriteTemp(t, modelgen.Options{Shape: modelgen.Stories260K(), Type: gguf.TypeQ8_0, Seed: 9, Vocab: v}))
	if shared != want {
		t.Errorf("fingerprint %s, want stories260K's %s", shared, want)
	}
	other := fingerprint(modelgen.WriteTemp(t, modelgen.Options{Shape: modelgen.Stories260K(), Seed: 9}))
	if other == want {
		t.Error("a synthetic vocabulary has stories260K's fingerprint")
	}
	// Two seeds, one synthetic vocabulary.
	s := modelgen.Stories260K()
	if a, b := fingerprint(modelgen.WriteTemp(t, modelgen.Options{Shape: s, Seed: 1})), fingerprint(modelgen.WriteTemp(t, modelgen.Options{Shape: s, Seed: 2})); a != b {
		t.Error("synthetic vocabularies of one size differ between seeds")
	}
}
