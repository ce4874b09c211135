package prefixcache

import (
	"context"
	"slices"
	"testing"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/engine"
	"github.com/baco-go/baco/internal/testdata"
)

func step(t *testing.T, b backend.Backend, seq backend.SeqID, toks []int32) []float32 {
	t.Helper()
	out, err := b.Step(context.Background(), []backend.StepInput{{Seq: seq, Tokens: toks}})
	if err != nil {
		t.Fatal(err)
	}
	return out[0].Dists[0].Full
}

// TestReuseGivesTheSameDistributions: a request that resends a kept
// sequence's tokens plus new ones forks it and steps only the new tokens,
// and gets exactly the distribution a fresh prefill gives.
func TestReuseGivesTheSameDistributions(t *testing.T) {
	e, err := engine.Load(testdata.Path(t, "models/stories260K.gguf"), engine.WithContextLen(512))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	c := New(e, 2)
	prompt := []int32{1, 403, 407, 261, 378}
	full := append(slices.Clone(prompt), 432, 383, 286, 261)

	s1, _ := c.Open(ctx)
	step(t, c, s1, prompt)
	step(t, c, s1, full[5:7]) // s1 holds full[:7]
	if err := c.Free(ctx, s1); err != nil {
		t.Fatal(err)
	}
	// A new request with the whole list: the first 7 tokens are reused.
	s2, _ := c.Open(ctx)
	got := step(t, c, s2, full)
	if st := c.Stats(); st.Hits != 1 || st.Reused != 7 || st.Misses != 1 {
		t.Fatalf("stats %+v, want 1 hit reusing 7 tokens after the first prefill missed", st)
	}
	ref, _ := e.Open(ctx)
	want := step(t, e, ref, full)
	if !slices.Equal(got, want) {
		t.Fatal("distribution after reuse differs from a fresh prefill")
	}
	// A shorter request that diverges inside the kept tokens reuses the
	// common prefix only.
	s3, _ := c.Open(ctx)
	other := []int32{1, 403, 407, 300, 301}
	got = step(t, c, s3, other)
	ref2, _ := e.Open(ctx)
	if want := step(t, e, ref2, other); !slices.Equal(got, want) {
		t.Fatal("distribution after a partial reuse differs from a fresh prefill")
	}
	if st := c.Stats(); st.Hits != 2 || st.Reused != 7+3 {
		t.Fatalf("stats %+v, want 2 hits reusing 10 tokens", st)
	}
	// Continuing s2 after its reuse behaves like any sequence.
	got = step(t, c, s2, []int32{376})
	want = step(t, e, ref, []int32{376})
	if !slices.Equal(got, want) {
		t.Fatal("continuation after reuse differs")
	}
	// Freeing beyond the bound evicts (the engine holds only live + 2 kept).
	for _, s := range []backend.SeqID{s2, s3} {
		if err := c.Free(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.kept.Len(); n != 2 {
		t.Fatalf("%d kept sequences, want the bound 2", n)
	}
	if _, err := c.Step(ctx, []backend.StepInput{{Seq: s2, Tokens: []int32{1}}}); err == nil {
		t.Fatal("stepping a freed sequence should fail")
	}
}
