package llama

import (
	"context"
	"math"
	"testing"
)

// TestEmbedIsTheHiddenStateTheHeadReads checks Embed against the logits:
// for one appended token, the output head applied to the embedding must
// give the logits a plain Forward computes at that position; and the mean
// over several tokens is the mean of the single-token embeddings.
func TestEmbedIsTheHiddenStateTheHeadReads(t *testing.T) {
	m := loadStories(t, 2)
	ctx := context.Background()
	prompt := []int32{1, 403, 407, 261}
	next := []int32{378, 432, 383}
	V, dim := m.cfg.VocabSize, m.cfg.Dim

	// Hidden state after prompt+next[0], through Embed.
	c := m.NewCache()
	out := make([][]float32, 1)
	if err := m.Forward(ctx, []Batch{{Cache: c, Tokens: prompt}}, out); err != nil {
		t.Fatal(err)
	}
	singles := make([][]float32, len(next))
	for i, tok := range next {
		if err := m.Forward(ctx, []Batch{{Cache: c, Tokens: []int32{tok}, Embed: true}}, out); err != nil {
			t.Fatal(err)
		}
		if len(out[0]) != dim {
			t.Fatalf("embedding has %d floats, want %d", len(out[0]), dim)
		}
		singles[i] = append([]float32(nil), out[0]...)
	}
	// Logits after prompt+next[0] the ordinary way.
	c2 := m.NewCache()
	if err := m.Forward(ctx, []Batch{{Cache: c2, Tokens: append(append([]int32{}, prompt...), next[0])}}, out); err != nil {
		t.Fatal(err)
	}
	want := out[0]
	row := make([]float32, dim)
	var maxDiff float64
	for v := 0; v < V; v++ {
		m.output.RowF32(v, row)
		var dot float64
		for j := range row {
			dot += float64(row[j]) * float64(singles[0][j])
		}
		maxDiff = math.Max(maxDiff, math.Abs(dot-float64(want[v])))
	}
	if maxDiff > 1e-4 {
		t.Fatalf("output head · embedding differs from the logits by %g", maxDiff)
	}
	// Mean pooling over three tokens in one call.
	c3 := m.NewCache()
	if err := m.Forward(ctx, []Batch{{Cache: c3, Tokens: prompt}}, out); err != nil {
		t.Fatal(err)
	}
	if err := m.Forward(ctx, []Batch{{Cache: c3, Tokens: next, Embed: true}}, out); err != nil {
		t.Fatal(err)
	}
	for j := 0; j < dim; j++ {
		mean := (float64(singles[0][j]) + float64(singles[1][j]) + float64(singles[2][j])) / 3
		if d := math.Abs(mean - float64(out[0][j])); d > 1e-5 {
			t.Fatalf("pooled embedding[%d] = %g, mean of singles %g", j, out[0][j], mean)
		}
	}
	if c3.Len() != len(prompt)+len(next) {
		t.Fatalf("cache holds %d tokens after Embed, want %d", c3.Len(), len(prompt)+len(next))
	}
}
