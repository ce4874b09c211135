package llama

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
)

// equalBits reports the first index where a and b differ, or -1.
func firstDiff(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// TestBatchedDecodeMatchesSingle decodes 8 sequences of different lengths
// together and one at a time: the logits must be bitwise equal (the matrix
// kernels' result for one row does not depend on the batch, and attention
// is computed per row).
func TestBatchedDecodeMatchesSingle(t *testing.T) {
	type model struct {
		name string
		m    *Model
	}
	qwen, _ := genModel(t, genSpec{arch: "qwen2", layers: 2, dim: 256, ff: 512, heads: 4, kvHeads: 2, vocab: 512, ctx: 128, ropeBase: 1e6, tied: true, seed: 11}, gguf.TypeQ8_0, 2)
	models := []model{{"stories260K", loadStories(t, 2)}, {"qwen2-Q8_0", qwen}}
	for _, md := range models {
		t.Run(md.name, func(t *testing.T) {
			m := md.m
			V := m.Config().VocabSize
			const nseq, steps = 8, 6
			prompts := make([][]int32, nseq)
			for i := range prompts {
				prompts[i] = randTokens(uint64(100+i), 3+2*i, V)
			}
			next := randTokens(99, nseq*steps, V)
			// Batched: prefill all prompts in one call, then decode together.
			batched := make([][][]float32, nseq)
			caches := make([]*Cache, nseq)
			bs := make([]Batch, nseq)
			out := make([][]float32, nseq)
			for i := range caches {
				caches[i] = m.NewCache()
				bs[i] = Batch{Cache: caches[i], Tokens: prompts[i]}
			}
			for s := 0; s <= steps; s++ {
				if err := m.Forward(context.Background(), bs, out); err != nil {
					t.Fatal(err)
				}
				for i := range bs {
					batched[i] = append(batched[i], append([]float32(nil), out[i]...))
					bs[i].Tokens = next[i*steps+min(s, steps-1) : i*steps+min(s, steps-1)+1]
				}
			}
			// Single: each sequence alone.
			for i := range nseq {
				c := m.NewCache()
				toks := prompts[i]
				for s := 0; s <= steps; s++ {
					got := forward1(t, m, c, toks, false)
					if d := firstDiff(got, batched[i][s]); d >= 0 {
						t.Fatalf("seq %d step %d: batched logit[%d] = %g, single %g", i, s, d, batched[i][s][d], got[d])
					}
					toks = next[i*steps+min(s, steps-1) : i*steps+min(s, steps-1)+1]
				}
			}
		})
	}
}

// TestPrefillChunkingAndAllLogits checks that prefilling in one pass, in
// chunks of 3 rows, and token by token give bitwise the same logits.
func TestPrefillChunkingAndAllLogits(t *testing.T) {
	m := loadStories(t, 2)
	V := m.Config().VocabSize
	toks := append(append([]int32(nil), storiesPrompt...), storiesGreedy[:20]...)
	all := forward1(t, m, m.NewCache(), toks, true)
	if len(all) != len(toks)*V {
		t.Fatalf("AllLogits returned %d floats, want %d", len(all), len(toks)*V)
	}
	c := m.NewCache()
	for p, tok := range toks {
		got := forward1(t, m, c, []int32{tok}, false)
		if d := firstDiff(got, all[p*V:(p+1)*V]); d >= 0 {
			t.Fatalf("position %d: one-by-one logit[%d] = %g, prefill %g", p, d, got[d], all[p*V+d])
		}
	}
	m.SetChunk(3)
	defer m.SetChunk(0)
	chunked := forward1(t, m, m.NewCache(), toks, true)
	if d := firstDiff(chunked, all); d >= 0 {
		t.Fatalf("chunk 3: logit[%d] = %g, one pass %g", d, chunked[d], all[d])
	}
}

// TestForkTruncate checks that a forked or truncated cache continues
// exactly like a fresh prefill of the same tokens.
func TestForkTruncate(t *testing.T) {
	m := loadStories(t, 2)
	toks := append(append([]int32(nil), storiesPrompt...), storiesGreedy[:10]...)
	fresh := func(ts []int32) []float32 { return forward1(t, m, m.NewCache(), ts, false) }

	base := m.NewCache()
	forward1(t, m, base, toks[:8], false)
	fork := base.Fork()
	if fork.Len() != 8 {
		t.Fatalf("fork Len = %d, want 8", fork.Len())
	}
	// Diverge: the fork continues with the true tokens, the base with others.
	forward1(t, m, base, []int32{5, 6, 7}, false)
	got := forward1(t, m, fork, toks[8:], false)
	if d := firstDiff(got, fresh(toks)); d >= 0 {
		t.Fatalf("fork: logit[%d] differs from a fresh prefill", d)
	}
	// Truncate the diverged base back to 8 and continue.
	if err := base.Truncate(8); err != nil {
		t.Fatal(err)
	}
	got = forward1(t, m, base, toks[8:12], false)
	if d := firstDiff(got, fresh(toks[:12])); d >= 0 {
		t.Fatalf("truncate: logit[%d] differs from a fresh prefill", d)
	}
	if err := base.Truncate(13); err == nil {
		t.Fatal("Truncate beyond Len succeeded")
	}
	if err := base.Truncate(-1); err == nil {
		t.Fatal("Truncate(-1) succeeded")
	}
}

func TestForwardErrors(t *testing.T) {
	m := loadStories(t, 1)
	other := loadStories(t, 1)
	c := m.NewCache()
	forward1(t, m, c, storiesPrompt, false)
	full := m.NewCache()
	forward1(t, m, full, make([]int32, 510), false)
	cases := []struct {
		name string
		seqs []Batch
		want string
	}{
		{"token too large", []Batch{{Cache: c, Tokens: []int32{1, 512}}}, "sequence 0 token 1: id 512 out of range"},
		{"negative token", []Batch{{Cache: m.NewCache()}, {Cache: c, Tokens: []int32{-3}}}, "sequence 0: no tokens"},
		{"negative token 2", []Batch{{Cache: c, Tokens: []int32{-3}}}, "sequence 0 token 0: id -3 out of range"},
		{"empty", []Batch{{Cache: c, Tokens: nil}}, "sequence 0: no tokens"},
		{"nil cache", []Batch{{Tokens: []int32{1}}}, "sequence 0: nil cache"},
		{"foreign cache", []Batch{{Cache: other.NewCache(), Tokens: []int32{1}}}, "another model"},
		{"shared cache", []Batch{{Cache: c, Tokens: []int32{1}}, {Cache: c, Tokens: []int32{2}}}, "sequences 0 and 1 share one cache"},
		{"overflow", []Batch{{Cache: c, Tokens: []int32{1}}, {Cache: full, Tokens: []int32{1, 2, 3}}}, "sequence 1: 510 cached + 3 new tokens exceed the context length 512"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := m.Forward(context.Background(), tc.seqs, make([][]float32, len(tc.seqs)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
			if c.Len() != len(storiesPrompt) || full.Len() != 510 {
				t.Fatalf("failed Forward changed the caches: %d, %d", c.Len(), full.Len())
			}
		})
	}
	err := m.Forward(context.Background(), []Batch{{Cache: full, Tokens: make([]int32, 3)}}, make([][]float32, 1))
	if !errors.Is(err, ErrContextOverflow) {
		t.Errorf("overflow error %v does not wrap ErrContextOverflow", err)
	}
	// Filling the context exactly is fine.
	forward1(t, m, full, []int32{1, 2}, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Forward(ctx, []Batch{{Cache: c, Tokens: []int32{1}}}, make([][]float32, 1)); !errors.Is(err, context.Canceled) || c.Len() != len(storiesPrompt) {
		t.Errorf("cancelled Forward: error %v, cache len %d", err, c.Len())
	}
}
