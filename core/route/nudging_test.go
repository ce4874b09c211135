package route_test

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/baco-go/baco/core/backend/backendtest"
	"github.com/baco-go/baco/core/decode"
	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/core/tokenclass"
)

// baseView is a hand-made view whose base model has top-1 probability p1.
func baseView(p1 float64) route.View {
	d := &dist.Dist{Top: []dist.Candidate{{ID: 7, LogProb: float32(math.Log(p1))}}, Entropy: 1}
	return route.View{Base: d, BaseTop: route.Top{ID: 7, Class: tokenclass.Content}, AlignedTop: route.Top{ID: -1}}
}

// TestNudgingRule checks the decision on hand-made views: base iff the base
// top-1 probability is at least γ; a tie goes to base.
func TestNudgingRule(t *testing.T) {
	tie := baseView(0.5)
	tieP1 := tie.Base.P1() // the exact float64 the rule compares
	tests := []struct {
		gamma float64
		v     route.View
		want  float64
	}{
		{0.5, baseView(0.9), 1},
		{0.5, baseView(0.1), 0},
		{tieP1, tie, 1},                    // p1 == γ: base
		{math.Nextafter(tieP1, 2), tie, 0}, // γ just above p1: aligned
		{0, baseView(1e-9), 1},             // γ = 0: always base
		{1, baseView(1), 1},                // γ = 1: base only where certain
		{1, baseView(0.999), 0},            //
		{0.5, func() route.View { v := baseView(0.9); v.BaseTop.Class = tokenclass.Punct; return v }(), 1}, // the class does not matter
	}
	for _, tc := range tests {
		r, err := route.New("nudging", tc.gamma)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]route.Decision, 1)
		if err := r.Decide(context.Background(), []route.View{tc.v}, out); err != nil {
			t.Fatal(err)
		}
		if out[0].Weight != tc.want {
			t.Errorf("nudging:%v with p1=%v: weight %v, want %v", tc.gamma, tc.v.Base.P1(), out[0].Weight, tc.want)
		}
	}
	r, err := route.Parse("nudging:0.4")
	if err != nil || r.Name() != "nudging:0.4" || r.Needs() != (route.Needs{Base: true}) {
		t.Fatalf("Parse(nudging:0.4) = %v, %v", r, err)
	}
	for _, bad := range []string{"nudging", "nudging:1.5", "nudging:-0.1"} {
		if _, err := route.Parse(bad); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
}

// script is one generated position of the word-level hand-over test: the
// base model's top-1 token and its probability, and the aligned model's
// top-1 token (probability 0.9).
type script struct {
	base    string
	p1      float64
	aligned string
}

// scripted returns logits that put probability p on the piece want and
// spread the rest evenly; the position is the context length minus the
// one-token prompt.
func scripted(vocab []string, steps []script, base bool) backendtest.LogitsFunc {
	return func(ctx []int32) []float32 {
		pos := len(ctx) - 1
		s := steps[min(pos, len(steps)-1)]
		want, p := s.aligned, 0.9
		if base {
			want, p = s.base, s.p1
		}
		id := slices.Index(vocab, want)
		rest := float32(math.Log((1 - p) / float64(len(vocab)-1)))
		out := make([]float32, len(vocab))
		for i := range out {
			out[i] = rest
		}
		out[id] = float32(math.Log(p))
		return out
	}
}

// TestNudgingWordLevelHandOver runs the nudging router through the decoder
// with word-boundary gating on scripted models and checks the behaviour
// Nudging describes: the aligned model drafts; the base model takes over at
// the next word where its top-1 probability is ≥ γ and writes until its
// top-1 probability is < γ, each hand-over happening where a word starts.
func TestNudgingWordLevelHandOver(t *testing.T) {
	vocab := backendtest.Vocab()
	steps := []script{
		{"▁cat", 0.3, "▁the"},   // 0: base unsure → aligned drafts "▁the"
		{"▁big", 0.9, "▁dog"},   // 1: base confident at a word start → base "▁big"
		{"▁dog", 0.8, "▁a"},     // 2: base still confident → base "▁dog"
		{"s", 0.2, "▁of"},       // 3: base unsure mid-word → gated, base finishes "s"
		{"▁ran", 0.3, "▁sat"},   // 4: base unsure at a word start → aligned "▁sat"
		{"▁home", 0.95, "ing"},  // 5: base confident but aligned is mid-word → gated, aligned "ing"
		{"▁home", 0.95, "▁and"}, // 6: word start → base "▁home"
		{".", 0.6, "!"},         // 7: base confident → base "."
	}
	b := backendtest.New("base", scripted(vocab, steps, true))
	a := backendtest.New("aligned", scripted(vocab, steps, false))
	r, err := route.New("nudging", 0.5)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := decode.New(ctx, decode.Config{Base: b, Aligned: a, Router: r, Boundary: decode.BoundaryWord})
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Generate(ctx, decode.Request{BasePrompt: []int32{1}, AlignedPrompt: []int32{1}, N: 1, MaxTokens: len(steps)})
	if err != nil {
		t.Fatal(err)
	}
	wantText := []string{"▁the", "▁big", "▁dog", "s", "▁sat", "ing", "▁home", "."}
	wantSrc := []route.Source{route.Aligned, route.Base, route.Base, route.Base, route.Aligned, route.Aligned, route.Base, route.Base}
	wantGated := []bool{false, false, false, true, false, true, false, false}
	tr := res.Samples[0].Trace
	if len(tr) != len(steps) {
		t.Fatalf("%d tokens, want %d", len(tr), len(steps))
	}
	for i, ev := range tr {
		if got := vocab[ev.ID]; got != wantText[i] || ev.Source != wantSrc[i] || ev.Gated != wantGated[i] {
			t.Errorf("pos %d: %q from %v (gated %v), want %q from %v (gated %v)",
				i, vocab[ev.ID], ev.Source, ev.Gated, wantText[i], wantSrc[i], wantGated[i])
		}
	}
}
