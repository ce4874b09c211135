package decode

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/backend/backendtest"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/core/sample"
)

// funcRouter is a test router whose decision is a function of the view.
type funcRouter struct {
	needs route.Needs
	f     func(v route.View) float64
}

func (r funcRouter) Name() string       { return "test" }
func (r funcRouter) Needs() route.Needs { return r.needs }
func (r funcRouter) Decide(_ context.Context, vs []route.View, out []route.Decision) error {
	for i, v := range vs {
		out[i].Weight = r.f(v)
	}
	return nil
}

// noEOS keeps the fakes from stopping early: the EOS logit is pushed down.
func noEOS(f backendtest.LogitsFunc) backendtest.LogitsFunc {
	return func(ctx []int32) []float32 {
		l := f(ctx)
		l[2] = -100
		l[0] = -100
		l[1] = -100
		return l
	}
}

func newPair(t testing.TB) (*backendtest.Fake, *backendtest.Fake) {
	n := len(backendtest.Vocab())
	return backendtest.New("base", noEOS(backendtest.HashLogits(n, "base"))),
		backendtest.New("aligned", noEOS(backendtest.HashLogits(n, "aligned")))
}

func newDecoder(t testing.TB, b, a backend.Backend, r route.Router, bd Boundary) *Decoder {
	t.Helper()
	d, err := New(context.Background(), Config{Base: b, Aligned: a, Router: r, Boundary: bd})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var warm = sample.Default()

func TestSameSeedSameOutput(t *testing.T) {
	defer goleak.VerifyNone(t)
	half := funcRouter{needs: route.Needs{Base: true}, f: func(v route.View) float64 {
		if v.Base.P1() < 0.2 {
			return 1
		}
		return 0
	}}
	run := func(n int, seed uint64) *Result {
		b, a := newPair(t)
		d := newDecoder(t, b, a, half, BoundaryWord)
		res, err := d.Generate(context.Background(), Request{
			BasePrompt: []int32{1, 3, 7}, AlignedPrompt: []int32{1, 4, 8}, N: n, Seed: seed, MaxTokens: 24,
			BaseSampling: warm, AlignedSampling: warm,
		})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	r1, r2 := run(1, 7), run(1, 7)
	if !reflect.DeepEqual(r1.Samples[0], r2.Samples[0]) {
		t.Fatalf("same seed, different samples:\n%+v\n%+v", r1.Samples[0].IDs, r2.Samples[0].IDs)
	}
	r8 := run(8, 7)
	if !reflect.DeepEqual(r1.Samples[0], r8.Samples[0]) {
		t.Fatalf("sample 0 differs between n=1 and n=8:\n%v\n%v", r1.Samples[0].IDs, r8.Samples[0].IDs)
	}
	distinct := map[string]bool{}
	for _, s := range r8.Samples {
		distinct[s.Text] = true
	}
	if len(distinct) < 2 {
		t.Fatalf("8 samples at temperature 1 all gave the same text %q", r8.Samples[0].Text)
	}
	if r3 := run(1, 8); reflect.DeepEqual(r1.Samples[0].IDs, r3.Samples[0].IDs) {
		t.Fatalf("seeds 7 and 8 gave the same sample %v", r1.Samples[0].IDs)
	}
}

// replay checks the lazy-evaluation invariant of one backend: for every
// sequence, the tokens it received (inherited through Fork, then appended by
// Steps) are, in order and without repetition, a prefix of prompt+generated.
func replay(t *testing.T, name string, f *backendtest.Fake, full []int32) {
	t.Helper()
	var got []int32
	for _, call := range f.Calls() {
		for _, c := range call {
			got = append(got, c.Tokens...)
		}
	}
	// A single sample: the root receives the prompt, the fork the rest.
	if !slices.Equal(got, full[:len(got)]) {
		t.Fatalf("%s received %v, want a prefix of %v", name, got, full)
	}
}

func TestLazyCatchUp(t *testing.T) {
	defer goleak.VerifyNone(t)
	b, a := newPair(t)
	// Aligned for 5 tokens, then base for the rest: base is never consulted
	// before position 5 and must then catch up on the 5 tokens in one Step.
	r := funcRouter{f: func(v route.View) float64 {
		if v.Pos < 5 {
			return 0
		}
		return 1
	}}
	d := newDecoder(t, b, a, r, BoundaryToken)
	prompt := []int32{1, 3, 7}
	res, err := d.Generate(context.Background(), Request{BasePrompt: prompt, AlignedPrompt: prompt, MaxTokens: 9, Seed: 1,
		BaseSampling: warm, AlignedSampling: warm})
	if err != nil {
		t.Fatal(err)
	}
	gen := res.Samples[0].IDs
	if len(gen) != 9 {
		t.Fatalf("generated %d tokens, want 9", len(gen))
	}
	bc := b.Calls()
	// base: prefill of the prompt, then the 5 pending tokens in one Step,
	// then one token per step for positions 6..8.
	wantBase := [][]int32{prompt, gen[:5], gen[5:6], gen[6:7], gen[7:8]}
	if len(bc) != len(wantBase) {
		t.Fatalf("base got %d steps, want %d: %+v", len(bc), len(wantBase), bc)
	}
	for i, w := range wantBase {
		if len(bc[i]) != 1 || !slices.Equal(bc[i][0].Tokens, w) {
			t.Fatalf("base step %d got %+v, want tokens %v", i, bc[i], w)
		}
	}
	// aligned: prefill, then one token per step for positions 1..4, then
	// never again.
	ac := a.Calls()
	if len(ac) != 5 {
		t.Fatalf("aligned got %d steps, want 5: %+v", len(ac), ac)
	}
	full := append(slices.Clone(prompt), gen...)
	replay(t, "base", b, full)
	replay(t, "aligned", a, full)
	for i, ev := range res.Samples[0].Trace {
		if (i < 5) != (ev.Source == route.Aligned) {
			t.Fatalf("token %d from %s", i, ev.Source)
		}
		if i >= 5 && ev.Aligned != nil {
			t.Fatalf("token %d traced an aligned signal though aligned was not run", i)
		}
	}
	if b.Live() != 0 || a.Live() != 0 {
		t.Fatalf("sequences left open: base %d aligned %d", b.Live(), a.Live())
	}
}

func TestWordBoundaryGating(t *testing.T) {
	defer goleak.VerifyNone(t)
	n := len(backendtest.Vocab())
	// Aligned always wants to continue a word ("ing", id 16) after "▁cat"
	// (id 7) and otherwise emits "▁cat"; base always emits "▁dog" (8).
	peak := func(id int) []float32 { return peakLogits(n, id, -20, 10) }
	a := backendtest.New("aligned", func(ctx []int32) []float32 {
		if ctx[len(ctx)-1] == 7 {
			return peak(16)
		}
		return peak(7)
	})
	b := backendtest.New("base", func(ctx []int32) []float32 { return peak(8) })
	// The router wants base at every odd position.
	r := funcRouter{f: func(v route.View) float64 { return float64(v.Pos % 2) }}
	prompt := []int32{1}
	for _, tc := range []struct {
		bd   Boundary
		want []int32
	}{
		// word: at every odd position the router asks for base, but aligned's
		// top-1 after "▁cat" is "ing", a word continuation, so aligned keeps
		// emitting and base never gets a half-word.
		{BoundaryWord, []int32{7, 16, 7, 16, 7, 16}},
		{BoundaryToken, []int32{7, 8, 7, 8, 7, 8}},
	} {
		t.Run(tc.bd.String(), func(t *testing.T) {
			d := newDecoder(t, b, a, r, tc.bd)
			res, err := d.Generate(context.Background(), Request{BasePrompt: prompt, AlignedPrompt: prompt, MaxTokens: 6})
			if err != nil {
				t.Fatal(err)
			}
			got := res.Samples[0].IDs
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWordBoundaryGatingAllowsSwitchAtWordStart(t *testing.T) {
	n := len(backendtest.Vocab())
	peak := func(id int) []float32 { return peakLogits(n, id, -20, 10) }
	a := backendtest.New("aligned", func(ctx []int32) []float32 { return peak(7) }) // always "▁cat"
	b := backendtest.New("base", func(ctx []int32) []float32 { return peak(8) })    // always "▁dog"
	r := funcRouter{f: func(v route.View) float64 { return float64(v.Pos % 2) }}
	d := newDecoder(t, b, a, r, BoundaryWord)
	res, err := d.Generate(context.Background(), Request{BasePrompt: []int32{1}, AlignedPrompt: []int32{1}, MaxTokens: 4})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{7, 8, 7, 8}; !slices.Equal(res.Samples[0].IDs, want) {
		t.Fatalf("got %v, want %v", res.Samples[0].IDs, want)
	}
	if res.Samples[0].Text != " cat dog cat dog" {
		t.Fatalf("text %q", res.Samples[0].Text)
	}
}

func TestStopRules(t *testing.T) {
	defer goleak.VerifyNone(t)
	n := len(backendtest.Vocab())
	// A fixed script per model: base says "▁the ▁cat ▁sat </s>", aligned says
	// "▁a ▁dog ▁ran . </s>".
	script := func(ids []int32) backendtest.LogitsFunc {
		return func(ctx []int32) []float32 {
			l := make([]float32, n)
			k := len(ctx) - 1 // prompt is one token
			id := ids[min(k, len(ids)-1)]
			l[id] = 30
			return l
		}
	}
	b := backendtest.New("base", script([]int32{3, 7, 9, 2}))
	a := backendtest.New("aligned", script([]int32{4, 8, 10, 12, 2}))
	always := func(w float64) route.Router { return funcRouter{f: func(route.View) float64 { return w }} }
	for _, tc := range []struct {
		name     string
		r        route.Router
		req      Request
		ctxLen   int
		want     string
		finish   string
		ntok     int
		traceLen int
	}{
		{"eos of base", always(1), Request{}, 0, " the cat sat", FinishStop, 3, 4},
		{"eos of aligned", always(0), Request{}, 0, " a dog ran.", FinishStop, 4, 5},
		{"max tokens", always(0), Request{MaxTokens: 2}, 0, " a dog", FinishLength, 2, 2},
		{"stop string", always(0), Request{Stop: []string{"og r"}}, 0, " a d", FinishStop, 3, 3},
		{"stop string at once", always(0), Request{Stop: []string{"zzz", " a"}}, 0, "", FinishStop, 1, 1},
		{"context length", always(0), Request{}, 3, " a dog", FinishLength, 2, 2},
		// Base's EOS does not stop a sample emitted by aligned: the aligned
		// script reaches its own EOS.
		{"other model's eos", funcRouter{needs: route.Needs{Base: true}, f: func(v route.View) float64 { return 0 }}, Request{}, 0, " a dog ran.", FinishStop, 4, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.ContextLen, a.ContextLen = tc.ctxLen, tc.ctxLen
			d := newDecoder(t, b, a, tc.r, BoundaryToken)
			req := tc.req
			req.BasePrompt, req.AlignedPrompt = []int32{1}, []int32{1}
			res, err := d.Generate(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			s := res.Samples[0]
			if s.Text != tc.want || s.Finish != tc.finish || len(s.IDs) != tc.ntok || len(s.Trace) != tc.traceLen {
				t.Fatalf("got text %q finish %s ids %v trace %d; want %q %s %d tokens, trace %d",
					s.Text, s.Finish, s.IDs, len(s.Trace), tc.want, tc.finish, tc.ntok, tc.traceLen)
			}
		})
	}
}

func TestCancellation(t *testing.T) {
	defer goleak.VerifyNone(t)
	b, a := newPair(t)
	started := make(chan struct{}, 64)
	block := func(ctx context.Context) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}
	b.BeforeStep = block
	d := newDecoder(t, b, a, funcRouter{needs: route.Needs{Base: true, Aligned: true}, f: func(route.View) float64 { return 0.5 }}, BoundaryWord)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := d.Generate(ctx, Request{BasePrompt: []int32{1}, AlignedPrompt: []int32{1}, N: 4, MaxTokens: 100, BaseSampling: warm, AlignedSampling: warm})
		done <- err
	}()
	<-started
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Generate did not return after cancellation")
	}
	if b.Live() != 0 || a.Live() != 0 {
		t.Fatalf("sequences left open after cancellation: base %d aligned %d", b.Live(), a.Live())
	}
}

func TestMixtureUsesBothModels(t *testing.T) {
	n := len(backendtest.Vocab())
	peak := func(id int) []float32 { return peakLogits(n, id, -50, 50) }
	a := backendtest.New("aligned", func(ctx []int32) []float32 { return peak(7) })
	b := backendtest.New("base", func(ctx []int32) []float32 { return peak(8) })
	d := newDecoder(t, b, a, funcRouter{f: func(route.View) float64 { return 0.25 }}, BoundaryWord)
	res, err := d.Generate(context.Background(), Request{BasePrompt: []int32{1}, AlignedPrompt: []int32{1}, MaxTokens: 400, Seed: 3,
		BaseSampling: warm, AlignedSampling: warm})
	if err != nil {
		t.Fatal(err)
	}
	var dogs int
	for _, ev := range res.Samples[0].Trace {
		if ev.Source != route.Mixed || ev.Base == nil || ev.Aligned == nil {
			t.Fatalf("event %+v: want a mixed source with both signals", ev)
		}
		if ev.ID == 8 {
			dogs++
		}
	}
	// Binomial(400, 0.25): mean 100, sd 8.7; 5 sd either side.
	if dogs < 57 || dogs > 143 {
		t.Fatalf("base token drawn %d/400 times with w=0.25", dogs)
	}
}

func TestVocabMismatch(t *testing.T) {
	b, a := newPair(t)
	a.Vocabulary = slices.Clone(a.Vocabulary)
	a.Vocabulary[9] = "▁stood"
	_, err := New(context.Background(), Config{Base: b, Aligned: a, Router: funcRouter{f: func(route.View) float64 { return 0 }}})
	var mm *VocabMismatchError
	if !errors.As(err, &mm) {
		t.Fatalf("got %v, want a VocabMismatchError", err)
	}
	for _, want := range []string{`"base"`, `"aligned"`, "token 9", "▁sat", "▁stood"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not mention %s", err, want)
		}
	}
}

func TestBadRequests(t *testing.T) {
	b, a := newPair(t)
	b.ContextLen = 4
	d := newDecoder(t, b, a, funcRouter{f: func(route.View) float64 { return 0 }}, BoundaryWord)
	bad := funcRouter{f: func(route.View) float64 { return 1.5 }}
	for _, tc := range []struct {
		name string
		req  Request
		want string
	}{
		{"empty prompt", Request{AlignedPrompt: []int32{1}}, "base model's prompt is empty"},
		{"long prompt", Request{BasePrompt: []int32{1, 3, 3, 3, 3}, AlignedPrompt: []int32{1}}, "context holds 4"},
		{"token out of range", Request{BasePrompt: []int32{1}, AlignedPrompt: []int32{1, 999}}, "token 999"},
		{"negative max", Request{BasePrompt: []int32{1}, AlignedPrompt: []int32{1}, MaxTokens: -1}, "max tokens"},
		{"bad weight", Request{BasePrompt: []int32{1}, AlignedPrompt: []int32{1}, Router: bad}, "base weight 1.5"},
		{"bad temperature", Request{BasePrompt: []int32{1}, AlignedPrompt: []int32{1}, BaseSampling: sample.Params{Temperature: -1, TopP: 1}}, "base sampling"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.Generate(context.Background(), tc.req)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestWordBoundaryGatingBPE is the gating test over a byte-level BPE
// vocabulary, where "Ġ" marks a leading space and "Ċ" a newline.
func TestWordBoundaryGatingBPE(t *testing.T) {
	vocab := []string{"<|endoftext|>", "<s>", "</s>", "Ġcat", "ing", "Ġdog", "Ċ", ",", "s"}
	peak := func(id int) []float32 { return peakLogits(len(vocab), id, -20, 10) }
	// Aligned: "Ġcat" → "ing" → "Ċ" → "Ġcat" ...; base always "Ġdog".
	next := map[int32]int{1: 3, 3: 4, 4: 6, 6: 3}
	a := backendtest.New("aligned", func(ctx []int32) []float32 { return peak(next[ctx[len(ctx)-1]]) })
	b := backendtest.New("base", func(ctx []int32) []float32 { return peak(5) })
	for _, f := range []*backendtest.Fake{a, b} {
		f.Vocabulary, f.Style = vocab, "bpe"
	}
	// The router wants base at every position after the first.
	r := funcRouter{f: func(v route.View) float64 {
		if v.Pos == 0 {
			return 0
		}
		return 1
	}}
	d := newDecoder(t, b, a, r, BoundaryWord)
	res, err := d.Generate(context.Background(), Request{BasePrompt: []int32{1}, AlignedPrompt: []int32{1}, MaxTokens: 3})
	if err != nil {
		t.Fatal(err)
	}
	// pos 1: aligned's top is "ing" (continues "cat") → gated, aligned emits
	// it; pos 2: aligned's top is "Ċ" (a newline starts a word) → base.
	if want := []int32{3, 4, 5}; !slices.Equal(res.Samples[0].IDs, want) {
		t.Fatalf("got %v, want %v", res.Samples[0].IDs, want)
	}
	if res.Samples[0].Text != " cating dog" {
		t.Fatalf("text %q", res.Samples[0].Text)
	}
	if tr := res.Samples[0].Trace; !tr[1].Gated || tr[2].Gated || tr[2].Source != route.Base {
		t.Fatalf("trace %+v", tr)
	}
}

// peakLogits are logits of size n: lo everywhere but hi at id.
func peakLogits(n, id int, lo, hi float32) []float32 {
	l := make([]float32, n)
	for i := range l {
		l[i] = lo
	}
	l[id] = hi
	return l
}
