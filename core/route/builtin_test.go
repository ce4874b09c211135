package route

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/core/tokenclass"
)

// view builds a view whose base model has top-1 probability p1 (p1 = 1 is
// exact: log-probability 0), entropy h and top-1 class c.
func view(p1, h float64, c tokenclass.Class) View {
	lp := float32(math.Log(p1))
	d := &dist.Dist{Top: []dist.Candidate{{ID: 7, LogProb: lp}}, Entropy: h}
	return View{Base: d, BaseTop: Top{ID: 7, Class: c}, AlignedTop: Top{ID: -1}}
}

func decideOne(t *testing.T, r Router, v View) float64 {
	t.Helper()
	out := make([]Decision, 1)
	if err := r.Decide(context.Background(), []View{v}, out); err != nil {
		t.Fatalf("%s: %v", r.Name(), err)
	}
	return out[0].Weight
}

func TestBuiltinRules(t *testing.T) {
	const B, A = 1.0, 0.0
	p1Of := func(v View) float64 { return v.Base.P1() }
	tests := []struct {
		spec string
		v    View
		want float64
	}{
		{"base", View{}, B},
		{"aligned", View{}, A},
		{"rand:0.3", View{U: 0.29}, B},
		{"rand:0.3", View{U: 0.3}, A}, // U == γ: aligned (base iff U < γ)
		{"rand:0.3", View{U: 0.31}, A},
		{"rand:0", View{U: 0}, A},
		{"rand:1", View{U: 0.999999}, B},
		{"p:0.5", view(0.4, 1, tokenclass.Content), B},
		{"p:0.5", view(0.6, 1, tokenclass.Content), A},
		{"p:1", view(1, 0, tokenclass.Content), A}, // p1 == γ exactly: aligned
		{"p:1", view(0.999, 0, tokenclass.Content), B},
		{"p:0", view(1e-9, 5, tokenclass.Content), A},
		{"p:0.5", view(0.4, 1, tokenclass.Punct), B}, // p ignores the class
		{"h:2", view(0.5, 2.5, tokenclass.Content), B},
		{"h:2", view(0.5, 1.5, tokenclass.Content), A},
		{"h:2", view(0.5, 2, tokenclass.Content), A}, // entropy == γ: aligned
		{"h:2", view(0.5, math.Nextafter(2, 3), tokenclass.Content), B},
		{"h:0", view(1, 0, tokenclass.Content), A},
		{"punc", view(0.9, 0, tokenclass.Punct), A},
		{"punc", view(0.9, 0, tokenclass.Space), A},
		{"punc", view(0.9, 0, tokenclass.Special), A},
		{"punc", view(0.9, 0, tokenclass.Content), B},
		{"punc", view(0.9, 0, tokenclass.Function), B},
		{"punc", view(0.9, 0, tokenclass.Number), B},
		{"fc", view(0.9, 0, tokenclass.Function), A},
		{"fc", view(0.9, 0, tokenclass.Punct), B},
		{"fc", view(0.9, 0, tokenclass.Content), B},
		{"p-punc:0.5", view(0.1, 4, tokenclass.Punct), A}, // punc wins over low p1
		{"p-punc:0.5", view(0.1, 4, tokenclass.Content), B},
		{"p-punc:0.5", view(0.9, 4, tokenclass.Content), A},
		{"p-punc:0.5", view(0.1, 4, tokenclass.Function), B},
		{"h-punc:1", view(0.1, 4, tokenclass.Space), A},
		{"h-punc:1", view(0.1, 4, tokenclass.Content), B},
		{"h-punc:1", view(0.1, 0.5, tokenclass.Content), A},
		{"p-fc:0.5", view(0.1, 4, tokenclass.Function), A},
		{"p-fc:0.5", view(0.1, 4, tokenclass.Punct), B}, // fc does not catch punctuation
		{"p-fc:0.5", view(0.9, 4, tokenclass.Content), A},
		{"h-fc:1", view(0.1, 4, tokenclass.Function), A},
		{"h-fc:1", view(0.1, 4, tokenclass.Content), B},
	}
	for _, tc := range tests {
		r, err := Parse(tc.spec)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.spec, err)
		}
		if got := decideOne(t, r, tc.v); got != tc.want {
			p1 := 0.0
			if tc.v.Base != nil {
				p1 = p1Of(tc.v)
			}
			t.Errorf("%s with p1=%v h=%v class=%v U=%v: weight %v, want %v", tc.spec, p1, entropyOf(tc.v), tc.v.BaseTop.Class, tc.v.U, got, tc.want)
		}
	}
}

func entropyOf(v View) float64 {
	if v.Base == nil {
		return 0
	}
	return v.Base.Entropy
}

// TestPBoundary pins the tie rule at γ for a p1 that is not 1: γ set to the
// exact float64 value of p1 goes to aligned, the next float up to base.
func TestPBoundary(t *testing.T) {
	v := view(0.5, 1, tokenclass.Content)
	p1 := math.Exp(float64(v.Base.Top[0].LogProb))
	at, _ := New("p", p1)
	above, _ := New("p", math.Nextafter(p1, 2))
	if w := decideOne(t, at, v); w != 0 {
		t.Errorf("p1 == γ: weight %v, want 0 (aligned)", w)
	}
	if w := decideOne(t, above, v); w != 1 {
		t.Errorf("p1 just below γ: weight %v, want 1 (base)", w)
	}
}

func TestNeeds(t *testing.T) {
	tests := map[string]Needs{
		"base": {}, "aligned": {}, "rand:0.5": {},
		"p:0.5": {Base: true}, "h:1": {Base: true}, "punc": {Base: true}, "fc": {Base: true},
		"p-punc:0.5": {Base: true}, "h-punc:1": {Base: true}, "p-fc:0.5": {Base: true}, "h-fc:1": {Base: true},
		"nudging:0.5": {Base: true},
	}
	if len(tests) != len(Names()) {
		t.Fatalf("test covers %d routers, Names has %d", len(tests), len(Names()))
	}
	for spec, want := range tests {
		r, err := Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		if r.Needs() != want {
			t.Errorf("%s: Needs %+v, want %+v", spec, r.Needs(), want)
		}
		// A router that does not need base must work without it.
		if !want.Base {
			if err := r.Decide(context.Background(), []View{{U: 0.5}}, make([]Decision, 1)); err != nil {
				t.Errorf("%s without base: %v", spec, err)
			}
		}
	}
}

func TestDecideErrors(t *testing.T) {
	r, _ := Parse("p:0.5")
	err := r.Decide(context.Background(), []View{{Pos: 3, Sample: 2}}, make([]Decision, 1))
	if err == nil || !strings.Contains(err.Error(), "base distribution not computed") || !strings.Contains(err.Error(), "pos 3") {
		t.Errorf("missing base: err = %v", err)
	}
	if err := r.Decide(context.Background(), make([]View, 2), make([]Decision, 1)); err == nil {
		t.Error("length mismatch: no error")
	}
}

func TestParse(t *testing.T) {
	good := map[string]string{
		"base":         "base",
		" Aligned ":    "aligned",
		"rand:0.3":     "rand:0.3",
		"p:0.5":        "p:0.5",
		"p:1":          "p:1",
		"p:0":          "p:0",
		"h:2.0":        "h:2",
		"h:0":          "h:0",
		"h:1e3":        "h:1000",
		"punc":         "punc",
		"fc":           "fc",
		"p-punc:0.5":   "p-punc:0.5",
		"h-punc:1.25":  "h-punc:1.25",
		"p-fc: 0.75":   "p-fc:0.75",
		"h-fc:3":       "h-fc:3",
		"P-PUNC:0.125": "p-punc:0.125",
	}
	for spec, name := range good {
		r, err := Parse(spec)
		if err != nil {
			t.Errorf("Parse(%q): %v", spec, err)
			continue
		}
		if r.Name() != name {
			t.Errorf("Parse(%q).Name() = %q, want %q", spec, r.Name(), name)
		}
		// The name parses back to the same router.
		if r2, err := Parse(r.Name()); err != nil || r2.Name() != r.Name() {
			t.Errorf("round trip of %q: %v, %v", r.Name(), r2, err)
		}
	}
	bad := []struct {
		spec string
		want []string
	}{
		{"nope", []string{"unknown name", "base, aligned, rand, p, h, punc, fc, p-punc, h-punc, p-fc, h-fc"}},
		{"", []string{"unknown name"}},
		{"p", []string{"needs γ", "[0, 1]", `"p:0.5"`}},
		{"p:", []string{"needs γ", `"p:0.5"`}},
		{"h", []string{"needs γ", "[0, +inf)", `"h:2.0"`}},
		{"rand", []string{"needs γ", `"rand:0.5"`}},
		{"p:1.5", []string{"out of range", "[0, 1]"}},
		{"p:-0.1", []string{"out of range", "[0, 1]"}},
		{"rand:2", []string{"out of range", "[0, 1]"}},
		{"h:-1", []string{"out of range", "[0, +inf)"}},
		{"h:inf", []string{"out of range", "finite"}},
		{"p:NaN", []string{"out of range"}},
		{"p-punc:abc", []string{"not a number", "p-punc:0.5"}},
		{"punc:0.5", []string{"takes no parameter"}},
		{"base:1", []string{"takes no parameter"}},
	}
	for _, tc := range bad {
		_, err := Parse(tc.spec)
		if err == nil {
			t.Errorf("Parse(%q): no error", tc.spec)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Parse(%q) error %q does not contain %q", tc.spec, err, w)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	for _, n := range Names() {
		info, ok := Lookup(n)
		if !ok || info.Name != n || info.Rule == "" {
			t.Errorf("Lookup(%q) = %+v, %v", n, info, ok)
		}
	}
	if _, ok := Lookup("judge"); ok {
		t.Error("Lookup(judge) ok")
	}
}

func BenchmarkDecide(b *testing.B) {
	views := make([]View, 64)
	for i := range views {
		c := tokenclass.Class(i % 5)
		views[i] = view(float64(i%10)/10+0.05, float64(i%7)*0.5, c)
		views[i].U = float64(i) / 64
	}
	out := make([]Decision, len(views))
	ctx := context.Background()
	for _, spec := range []string{"base", "rand:0.3", "p:0.5", "h:2", "punc", "fc", "p-punc:0.5", "h-punc:2", "p-fc:0.5"} {
		r, err := Parse(spec)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(spec, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := r.Decide(ctx, views, out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(views)), "ns/decision")
		})
	}
}
