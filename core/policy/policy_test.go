package policy

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/core/tokenclass"
)

// mk builds a distribution from (id, probability) pairs.
func mk(pairs ...float64) *dist.Dist {
	d := &dist.Dist{}
	var h float64
	for i := 0; i < len(pairs); i += 2 {
		p := pairs[i+1]
		d.Top = append(d.Top, dist.Candidate{ID: int32(pairs[i]), LogProb: float32(math.Log(p))})
		h -= p * math.Log(p)
	}
	d.Entropy = h
	return d
}

// testView: base top-1 " ," (punct) with p1 0.6, aligned top-1 " the"
// (function) with p1 0.9.
func testView() route.View {
	return route.View{
		Sample: 2, Pos: 5, PromptLen: 11,
		Base:       mk(10, 0.6, 11, 0.3, 12, 0.1),
		Aligned:    mk(20, 0.9, 10, 0.1),
		BaseTop:    route.Top{ID: 10, Piece: " ,", Class: tokenclass.Punct, WordStart: true},
		AlignedTop: route.Top{ID: 20, Piece: " the", Class: tokenclass.Function, WordStart: true},
		Prev:       route.Base, BaseFrac: 0.25, U: 0.125,
	}
}

func TestEvalResults(t *testing.T) {
	vars := map[string]any{"gamma": 0.5, "mode": "strict", "n": 3, "on": true, "w": 0.75}
	tweak := func(f func(v *route.View)) route.View {
		v := testView()
		f(&v)
		return v
	}
	content := func(v *route.View) {
		v.BaseTop.Class, v.BaseTop.Piece = tokenclass.Content, " cat"
	}
	// H(base) = −(.6 ln .6 + .3 ln .3 + .1 ln .1) = 0.8979 nats.
	tests := []struct {
		rule string
		v    route.View
		want float64
	}{
		{`base.class == "punct" ? "aligned" : (base.p1 < vars.gamma ? "base" : "aligned")`, testView(), 0},
		{`base.class == "punct" ? "aligned" : (base.p1 < vars.gamma ? "base" : "aligned")`, tweak(content), 0}, // p1 .6 ≥ .5
		{`base.class == "punct" ? "aligned" : (base.p1 < 0.7 ? "base" : "aligned")`, tweak(content), 1},
		{`base.p1 < 0.7`, testView(), 1},
		{`base.p1 < 0.5`, testView(), 0},
		{`base.entropy > 0.89 && base.entropy < 0.90`, testView(), 1},
		{`base.margin > 0.29 && base.margin < 0.31`, testView(), 1}, // .6 − .3
		{`base.top == " ," && aligned.top == " the"`, testView(), 1},
		{`aligned.class == "function" && base.word_start`, testView(), 1},
		{`base.id == 10 && aligned.id == 20`, testView(), 1},
		{`is_punct(base.top) && is_function(aligned.top) && !is_punct(aligned.top)`, testView(), 1},
		{`pos == 5 && sample == 2 && prompt_len == 11`, testView(), 1},
		{`prev == "base"`, testView(), 1},
		{`prev == "aligned"`, tweak(func(v *route.View) { v.Prev = route.Aligned }), 1},
		{`base_frac`, testView(), 0.25},
		{`base_frac < 0.3 ? vars.w : 0.25`, testView(), 0.75},
		{`pos % 2`, testView(), 1},
		{`agree ? "aligned" : "base"`, testView(), 1},
		{`agree ? "aligned" : "base"`, tweak(func(v *route.View) { v.AlignedTop.ID = 10 }), 0},
		{`word_start`, tweak(func(v *route.View) { v.Prev = route.Aligned; v.BaseTop.WordStart = false }), 1},
		{`word_start`, tweak(func(v *route.View) { v.Prev = route.Base; v.BaseTop.WordStart = false }), 0},
		{`word_start`, tweak(func(v *route.View) { v.Prev = route.Mixed; v.BaseTop.WordStart = false }), 0},
		{`vars.mode == "strict" && vars.n == 3 && vars.on`, testView(), 1},
		{`let g = vars.gamma + 0.2; base.p1 < g`, testView(), 1},
		{`rand()`, testView(), 0.125}, // the first draw is the view's U
		{`rand() < 0.2 ? "base" : "aligned"`, testView(), 1},
		{`true`, route.View{}, 1},
		{`0`, route.View{}, 0},
		{`1`, route.View{}, 1},
	}
	for _, tc := range tests {
		p, err := Compile(tc.rule, vars)
		if err != nil {
			t.Errorf("Compile(%q): %v", tc.rule, err)
			continue
		}
		v := tc.v
		got, err := p.Eval(&v)
		if err != nil {
			t.Errorf("%q: %v", tc.rule, err)
			continue
		}
		if math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%q = %v, want %v", tc.rule, got, tc.want)
		}
	}
}

func TestJS(t *testing.T) {
	tests := []struct {
		name string
		a, b *dist.Dist
		want float64
	}{
		{"identical", mk(1, .5, 2, .5), mk(1, .5, 2, .5), 0},
		// P = (.5,.5,0), Q = (.5,0,.5), M = (.5,.25,.25):
		// KL(P‖M) = KL(Q‖M) = .5 ln 2, JS = .5 ln 2.
		{"half overlap", mk(1, .5, 2, .5), mk(1, .5, 3, .5), 0.5 * math.Ln2},
		{"disjoint", mk(1, 1), mk(2, 1), math.Ln2},
		// The test view: P = (.6,.3,.1,0), Q = (.1,0,0,.9) over ids
		// (10,11,12,20), M = (.35,.15,.05,.45); KL(P‖M) = .6 ln(.6/.35) +
		// .4 ln 2, KL(Q‖M) = .1 ln(.1/.35) + .9 ln 2; JS = half their sum.
		{"test view", testView().Base, testView().Aligned, 0.5 * (0.6*math.Log(0.6/0.35) + 0.4*math.Ln2 + 0.1*math.Log(0.1/0.35) + 0.9*math.Ln2)},
		// Tails: P = (.8, rest .2), Q = (.8 on id 1, rest .2): identical.
		{"equal tails", mk(1, .8), mk(1, .8), 0},
		// Full distribution supplies the probability missing from Top.
		{"full lookup", mk(1, .5, 2, .5), &dist.Dist{Top: mk(1, .5).Top, Full: []float32{float32(math.Inf(-1)), float32(math.Log(.5)), float32(math.Log(.5))}}, 0},
	}
	p, err := Compile(`js`, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		v := route.View{Base: tc.a, Aligned: tc.b, BaseTop: route.Top{ID: tc.a.TopID()}, AlignedTop: route.Top{ID: tc.b.TopID()}}
		got, err := p.Eval(&v)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if math.Abs(got-tc.want) > 1e-6 {
			t.Errorf("%s: js = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRandDeterministic(t *testing.T) {
	p, err := Compile(`let a = rand(); let b = rand(); b`, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := testView()
	first, err := p.Eval(&v)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := p.Eval(&v)
	if first != again {
		t.Errorf("second rand() differs between evaluations: %v vs %v", first, again)
	}
	if first == v.U || first < 0 || first >= 1 {
		t.Errorf("second rand() = %v (U = %v)", first, v.U)
	}
}

func TestCompileErrors(t *testing.T) {
	vars := map[string]any{"gamma": 0.5}
	tests := []struct {
		rule string
		want []string
	}{
		{`bse.p1 < 0.5`, []string{"1:1:", `unknown name "bse"`, `did you mean "base"?`, "valid names: base, aligned, pos"}},
		{"base.p1 < 0.5 &&\n  agre", []string{"2:3:", `unknown name "agre"`, `did you mean "agree"?`}},
		{`base.p2 < 0.5`, []string{"1:6:", `unknown field "p2" of base`, `did you mean "p1"?`, "fields: p1, entropy"}},
		{`aligned.clas == "punct"`, []string{"1:9:", `did you mean "class"?`}},
		{`base.p1 < vars.gama`, []string{"1:16:", "unknown variable vars.gama", `did you mean "gamma"?`, "defined: gamma"}},
		{"base.p1 < 0.5 ?\n  \"base\" : \"algned\"", []string{"2:12:", `"algned"`, `did you mean "aligned"?`}},
		{`base.p1 < 0.5 ? 2 : 0`, []string{"1:17:", "must be in [0, 1]"}},
		{`base.p1 < 0.5 ? nil : "base"`, []string{"1:17:", "nil"}},
		{`[1, 2]`, []string{"1:1:", "returns []interface {}"}},
		{`{"a": 1}`, []string{"returns map"}},
		{`base.p1 <`, []string{"1:9:", "syntax error"}},
		{`foo(1)`, []string{"1:1:", "unknown function foo()", "is_punct, is_function, rand"}},
		{`rnd() < 0.5`, []string{"unknown function rnd()", `did you mean "rand"?`}},
		{`base.class == 3`, []string{"1:12:", "mismatched types string and int"}},
		{`is_punct(1)`, []string{"1:"}},
		{`pos.x`, []string{"pos has no fields"}},
		{`now()`, []string{"now() is not available"}},
		{"  ", []string{"empty rule"}},
	}
	for _, tc := range tests {
		_, err := Compile(tc.rule, vars)
		if err == nil {
			t.Errorf("Compile(%q): no error", tc.rule)
			continue
		}
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Compile(%q): %T is not *Error", tc.rule, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Compile(%q) error %q does not contain %q", tc.rule, err, w)
			}
		}
	}
	if _, err := Compile(`true`, map[string]any{"bad": []int{1}}); err == nil || !strings.Contains(err.Error(), "vars.bad") {
		t.Errorf("slice var: %v", err)
	}
}

func TestRuntimeErrors(t *testing.T) {
	vars := map[string]any{"mode": "fast"}
	tests := []struct {
		rule string
		v    route.View
		want string
	}{
		{`base.p1 + 1`, testView(), "returned weight 1."},
		{`-base.p1`, testView(), "must be in [0, 1]"},
		{`vars.mode`, testView(), `returned "fast"`},
		{`base.p1 < 0.5`, route.View{Aligned: mk(1, 1)}, "reads the base model but its distribution was not computed"},
		{`aligned.p1 < 0.5`, route.View{Base: mk(1, 1)}, "reads the aligned model but its distribution was not computed"},
		{`js > 0.1`, route.View{Base: mk(1, 1)}, "reads the aligned model but its distribution was not computed"},
	}
	for _, tc := range tests {
		p, err := Compile(tc.rule, vars)
		if err != nil {
			t.Errorf("Compile(%q): %v", tc.rule, err)
			continue
		}
		err = p.Decide(context.Background(), []route.View{tc.v}, make([]route.Decision, 1))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.rule, err, tc.want)
		}
	}
}

func TestNeeds(t *testing.T) {
	tests := []struct {
		rule string
		want route.Needs
	}{
		{`base.p1 < 0.5`, route.Needs{Base: true}},
		{`aligned.p1 < 0.5`, route.Needs{Aligned: true}},
		{`base.p1 < aligned.p1`, route.Needs{Base: true, Aligned: true}},
		{`agree`, route.Needs{Base: true, Aligned: true}},
		{`js < 0.1`, route.Needs{Base: true, Aligned: true}},
		{`word_start`, route.Needs{Base: true, Aligned: true}},
		{`pos > 3 && prev == "base" && base_frac < 0.5 && prompt_len > 0 && sample == 0`, route.Needs{}},
		{`rand() < 0.3`, route.Needs{}},
		{`is_punct(base.top)`, route.Needs{Base: true}},
		{`let base2 = 0.3; base2 < 0.5`, route.Needs{}},
		{`vars.g > 0.1`, route.Needs{}},
		{`pos > 3 ? base.entropy > 2 : "aligned"`, route.Needs{Base: true}},
	}
	for _, tc := range tests {
		p, err := Compile(tc.rule, map[string]any{"g": 0.2})
		if err != nil {
			t.Errorf("Compile(%q): %v", tc.rule, err)
			continue
		}
		if p.Needs() != tc.want {
			t.Errorf("%q: Needs %+v, want %+v", tc.rule, p.Needs(), tc.want)
		}
		// The rule must evaluate on a view holding exactly what it needs.
		v := testView()
		if !tc.want.Base {
			v.Base, v.BaseTop = nil, route.Top{ID: -1}
		}
		if !tc.want.Aligned {
			v.Aligned, v.AlignedTop = nil, route.Top{ID: -1}
		}
		if _, err := p.Eval(&v); err != nil {
			t.Errorf("%q on a minimal view: %v", tc.rule, err)
		}
	}
}

func TestRouterInterface(t *testing.T) {
	var r route.Router
	p, err := Compile(`base.p1 < 0.7`, nil)
	if err != nil {
		t.Fatal(err)
	}
	r = p
	if r.Name() != "rule" {
		t.Errorf("Name = %q", r.Name())
	}
	views := []route.View{testView(), testView()}
	views[1].Base = mk(1, 0.8, 2, 0.2)
	out := make([]route.Decision, 2)
	if err := r.Decide(context.Background(), views, out); err != nil {
		t.Fatal(err)
	}
	if out[0].Weight != 1 || out[1].Weight != 0 {
		t.Errorf("decisions %v, want [1 0]", out)
	}
	if err := r.Decide(context.Background(), views, out[:1]); err == nil {
		t.Error("length mismatch: no error")
	}
	// Concurrent use is serialised (run with -race).
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := make([]route.Decision, 2)
			for range 50 {
				if err := r.Decide(context.Background(), views, o); err != nil || o[0].Weight != 1 || o[1].Weight != 0 {
					t.Errorf("concurrent Decide: %v %v", o, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadFile(t *testing.T) {
	path := writeFile(t, `# p-punc as a rule
rule: |
  base.class == "punct" ? "aligned"
    : (base.p1 < vars.gamma ? "base" : "aligned")
vars:
  gamma: 0.7
`)
	p, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := testView()
	v.BaseTop.Class = tokenclass.Content
	if w, err := p.Eval(&v); err != nil || w != 1 {
		t.Errorf("Eval = %v, %v; want 1 (p1 .6 < .7)", w, err)
	}
	if p.Vars()["gamma"] != 0.7 || p.Needs() != (route.Needs{Base: true}) {
		t.Errorf("vars %v needs %+v", p.Vars(), p.Needs())
	}
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string
	}{
		// Literal block: the rule's line 2 is file line 4; the block is
		// indented 2, and "vars.gama" sits at rule column 17 of "  : (base.p1 < vars.gama ..."
		// → the property "gama" at rule col 21 → file col 23.
		{"literal block", "# comment\nrule: |\n  base.class == \"punct\" ? \"aligned\"\n    : (base.p1 < vars.gama ? \"base\" : \"aligned\")\nvars:\n  gamma: 0.5\n",
			[]string{":4:23:", "unknown variable vars.gama", `did you mean "gamma"?`}},
		// Single line, plain: value starts at col 7; "bse" is at rule col 1.
		{"plain line", "rule: bse.p1 < 0.5\n", []string{":1:7:", `unknown name "bse"`}},
		// Double-quoted: the quote is col 7, the rule starts at col 8;
		// "p2" is at rule col 6 → file col 13.
		{"quoted line", "vars: {}\nrule: \"base.p2 < 0.5\"\n", []string{":2:13:", `unknown field "p2"`}},
		{"folded", "rule: >\n  base.p1 <\n  vars.gama\n", []string{":1:7:", "within the rule", "vars.gama"}},
		{"unknown field", "rule: base.p1 < 0.5\nvar:\n  gamma: 1\n", []string{":2:1:", `unknown field "var"`, `did you mean "vars"?`}},
		{"no rule", "vars:\n  gamma: 1\n", []string{"no rule"}},
		{"rule not string", "rule:\n  - a\n", []string{":2:3:", "rule must be a string"}},
		{"bad var", "rule: \"true\"\nvars:\n  g: [1, 2]\n", []string{":3:6:", "vars.g must be a bool, string or number"}},
		{"bad yaml", "rule: [\n", []string{"invalid YAML"}},
		{"not mapping", "- 1\n", []string{"must be a mapping"}},
		{"empty", "", []string{"empty policy file"}},
	}
	for _, tc := range tests {
		path := writeFile(t, tc.content)
		_, err := LoadFile(path)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if !strings.HasPrefix(err.Error(), path) {
			t.Errorf("%s: error %q does not start with the file name", tc.name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", tc.name, err, w)
			}
		}
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

func TestLoadFileRuntimeErrorLocated(t *testing.T) {
	path := writeFile(t, "rule: |\n  base.p1 +\n    vars.k\nvars:\n  k: 5\n")
	p, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := testView()
	_, err = p.Eval(&v)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "[0, 1]") {
		t.Errorf("runtime error %v should name the file and the range", err)
	}
}

func BenchmarkThreeClauseRule(b *testing.B) {
	p, err := Compile(`base.class == "punct" ? "aligned" : (base.p1 < vars.gamma ? "base" : "aligned")`, map[string]any{"gamma": 0.5})
	if err != nil {
		b.Fatal(err)
	}
	views := make([]route.View, 64)
	for i := range views {
		views[i] = testView()
		if i%3 == 0 {
			views[i].BaseTop.Class = tokenclass.Content
		}
		if i%2 == 0 {
			views[i].Base = mk(1, 0.4, 2, 0.3)
		}
	}
	out := make([]route.Decision, len(views))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Decide(ctx, views, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(views)), "ns/decision")
}

func BenchmarkRuleWithFunctions(b *testing.B) {
	p, err := Compile(`is_punct(base.top) ? "aligned" : (rand() < vars.gamma ? "base" : "aligned")`, map[string]any{"gamma": 0.5})
	if err != nil {
		b.Fatal(err)
	}
	views := []route.View{testView()}
	out := make([]route.Decision, 1)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Decide(context.Background(), views, out); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDocExamples compiles and runs the examples of docs/policies.md.
func TestDocExamples(t *testing.T) {
	vars := map[string]any{"gamma": 0.5, "js_max": 0.3, "p": 0.2}
	rules := []struct {
		rule string
		want float64 // on testView: base top " ," punct p1 .6, H .898; prev base; U .125
	}{
		{`base.class == "punct" ? "aligned" : (base.p1 < vars.gamma ? "base" : "aligned")`, 0},
		{`base.class == "function" ? "aligned" : base.entropy > vars.gamma`, 1},
		{`pos < 20 || base.top == "\n" ? "aligned" : base.p1 < 0.4`, 0},
		{`min(1.0, base.entropy / 4)`, 0.8979457248 / 4},
		{`!word_start ? prev : (js > vars.js_max ? "aligned" : "base")`, 0}, // JS of the test view ≈ 0.55 (TestJS)
		{`rand() < vars.p`, 1},
	}
	for _, tc := range rules {
		p, err := Compile(tc.rule, vars)
		if err != nil {
			t.Errorf("Compile(%q): %v", tc.rule, err)
			continue
		}
		v := testView()
		got, err := p.Eval(&v)
		if err != nil {
			t.Errorf("%q: %v", tc.rule, err)
			continue
		}
		if math.Abs(got-tc.want) > 1e-6 {
			t.Errorf("%q = %v, want %v", tc.rule, got, tc.want)
		}
	}
}
