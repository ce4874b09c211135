package plugintest

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/core/tokenclass"
	"github.com/baco-go/baco/sdk/plugin"
)

// RunRouter runs the router conformance suite against the plugin binary at
// path, opening an instance with params (e.g. "0.3").
func RunRouter(t *testing.T, path, params string, opts ...Option) {
	t.Helper()
	o := newOptions(opts)
	h := newHost(t, path, plugin.KindRouter, o)
	ctx := ctxFor(t)
	ins, err := h.Inspect(ctx, plugin.KindRouter, underTest)
	if err != nil {
		t.Fatalf("handshake and describe: %v", err)
	}
	t.Run("describe", func(t *testing.T) { checkDescription(t, ins.Description, plugin.KindRouter) })
	r, err := h.Router(ctx, underTest, params)
	if err != nil {
		t.Fatalf("open with %q: %v", params, err)
	}
	pid := r.PID()
	if r.Name() == "" {
		t.Error("the instance has an empty name")
	}
	views := Views(64, 1)
	t.Run("decide", func(t *testing.T) {
		out := make([]route.Decision, len(views))
		if err := r.Decide(ctx, views, out); err != nil {
			t.Fatalf("Decide: %v", err)
		}
		if err := r.Decide(ctx, nil, nil); err != nil {
			t.Errorf("Decide of an empty batch: %v", err)
		}
	})
	t.Run("batching", func(t *testing.T) {
		all := make([]route.Decision, len(views))
		if err := r.Decide(ctx, views, all); err != nil {
			t.Fatal(err)
		}
		for i := range views {
			one := make([]route.Decision, 1)
			if err := r.Decide(ctx, views[i:i+1], one); err != nil {
				t.Fatal(err)
			}
			if one[0] != all[i] {
				t.Errorf("view %d: %v in a batch, %v alone", i, all[i].Weight, one[0].Weight)
			}
		}
	})
	t.Run("determinism", func(t *testing.T) {
		a := make([]route.Decision, len(views))
		b := make([]route.Decision, len(views))
		if err := r.Decide(ctx, views, a); err != nil {
			t.Fatal(err)
		}
		r2, err := h.Router(ctx, underTest, params)
		if err != nil {
			t.Fatal(err)
		}
		if r2.Name() != r.Name() || r2.Needs() != r.Needs() {
			t.Errorf("a second instance with the same parameters is %q %+v, the first %q %+v", r2.Name(), r2.Needs(), r.Name(), r.Needs())
		}
		if err := r2.Decide(ctx, views, b); err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if a[i] != b[i] {
				t.Errorf("view %d: two instances decided %v and %v", i, a[i].Weight, b[i].Weight)
			}
		}
	})
	t.Run("needs", func(t *testing.T) {
		// Views without the distributions the router does not need.
		n := r.Needs()
		vs := Views(16, 2)
		for i := range vs {
			if !n.Base {
				vs[i].Base, vs[i].BaseTop = nil, route.Top{ID: -1}
			}
			if !n.Aligned {
				vs[i].Aligned, vs[i].AlignedTop = nil, route.Top{ID: -1}
			}
		}
		out := make([]route.Decision, len(vs))
		if err := r.Decide(ctx, vs, out); err != nil {
			t.Errorf("Decide with only the distributions Needs asks for (%+v): %v", n, err)
		}
	})
	t.Run("error paths", func(t *testing.T) {
		for _, bad := range o.badParams {
			if _, err := h.Router(ctx, underTest, bad); err == nil {
				t.Errorf("open with bad parameters %q succeeded", bad)
			}
		}
		out := make([]route.Decision, len(views))
		if err := r.Decide(ctx, views, out); err != nil {
			t.Errorf("Decide after refused opens: %v", err)
		}
	})
	if r.PID() != pid {
		t.Errorf("the plugin process was replaced during the suite (pid %d → %d): it crashed or misbehaved", pid, r.PID())
	}
}

// viewVocab is the vocabulary of the synthetic views.
var viewVocab = []string{
	"<unk>", "<s>", "</s>", "▁the", "▁a", "▁of", "▁and", "▁cat", "▁dog", "▁sat", "▁ran", "▁home",
	".", ",", "!", "<0x0A>", "ing", "s", "ed", "▁big", "▁small", "▁42", "▁", "▁Once", "▁upon", "?",
}

// Views returns n synthetic router views drawn from seed: both models'
// top-8 distributions over a small SentencePiece vocabulary (punctuation,
// function and content words, numbers, control tokens), positions, previous
// sources and uniform draws. Plugin authors may use them in their own
// tests.
func Views(n int, seed uint64) []route.View {
	rng := rand.New(rand.NewPCG(seed, 0x62616330))
	special := []bool{true, true, true}
	table := tokenclass.NewTable(viewVocab, special, tokenclass.StyleSPM)
	mk := func(sharp float64) (*dist.Dist, route.Top) {
		logits := make([]float32, len(viewVocab))
		for i := range logits {
			logits[i] = float32(rng.NormFloat64() * sharp)
		}
		d := dist.FromLogits(logits, 8)
		d.Full = nil
		for i := range d.Top {
			d.Top[i].Piece = viewVocab[d.Top[i].ID]
		}
		id := d.Top[0].ID
		text, class, ws, _ := table.Lookup(id)
		return &d, route.Top{ID: id, Piece: text, Class: class, WordStart: ws}
	}
	out := make([]route.View, n)
	base := 0
	for i := range out {
		b, bt := mk(0.5 + 3*rng.Float64())
		a, at := mk(0.5 + 3*rng.Float64())
		prev := route.Aligned
		if rng.IntN(2) == 1 {
			prev = route.Base
		}
		pos := rng.IntN(64)
		frac := 0.0
		if pos > 0 {
			base = rng.IntN(pos + 1)
			frac = float64(base) / float64(pos)
		}
		out[i] = route.View{
			Sample: rng.IntN(4), Pos: pos, PromptLen: 8 + rng.IntN(32),
			Base: b, Aligned: a, BaseTop: bt, AlignedTop: at,
			Prev: prev, BaseFrac: frac, U: math.Min(rng.Float64(), math.Nextafter(1, 0)),
		}
	}
	return out
}
