package engine

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/baco-go/baco/internal/testdata"
)

// TestEmbedSeparatesTexts: hidden-state embeddings of stories260K put a
// paraphrase nearer than an unrelated text, and bad input is an error.
func TestEmbedSeparatesTexts(t *testing.T) {
	e, err := Load(testdata.Path(t, "models/stories260K.gguf"), WithContextLen(512))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	emb := func(s string) []float32 {
		ids, err := e.Tokenize(ctx, s, false, false)
		if err != nil {
			t.Fatal(err)
		}
		v, err := e.Embed(ctx, []int32{1}, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(v) != 64 {
			t.Fatalf("embedding of %d floats, want 64 (the model's width)", len(v))
		}
		return v
	}
	cos := func(a, b []float32) float64 {
		var ab, aa, bb float64
		for i := range a {
			ab += float64(a[i]) * float64(b[i])
			aa += float64(a[i]) * float64(a[i])
			bb += float64(b[i]) * float64(b[i])
		}
		return ab / math.Sqrt(aa*bb)
	}
	a := emb("Lily went to the park with her mom. She played on the swing.")
	b := emb("Lily went to the park with her mother. She played on the swings.")
	c := emb("The big red truck drove fast down the road and honked.")
	if near, far := cos(a, b), cos(a, c); !(near > far) {
		t.Fatalf("paraphrase cosine %.3f not above unrelated %.3f", near, far)
	}
	if _, err := e.Embed(ctx, nil, nil); err == nil || !strings.Contains(err.Error(), "no tokens") {
		t.Fatalf("empty input: got %v", err)
	}
	if _, err := e.Embed(ctx, nil, []int32{9999}); err == nil || !strings.Contains(err.Error(), "9999") {
		t.Fatalf("bad id: got %v", err)
	}
}
