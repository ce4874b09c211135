package eval

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const goodExperiment = `
base: b.gguf
aligned: a.gguf
prompts: prompts.jsonl
samples: 3
seed: 9
max_tokens: 32
sampling: {temperature: 0.8}
methods:
  - router: aligned
  - router: nudging
    gamma: [0.6, 0.3]
  - name: sweep
    router: p-punc
    gamma: 0.5
  - temperature: [0.7, 1.3]
  - name: myrule
    rule: 'base.p1 < vars.gamma ? "base" : "aligned"'
    gamma: [0.2, 0.4]
`

func parse(t *testing.T, doc string) (*Experiment, error) {
	t.Helper()
	e, err := ParseExperiment([]byte(doc), "exp.yaml")
	if err != nil {
		return nil, err
	}
	e.SetDefaults()
	return e, e.Validate()
}

func TestExperimentPlan(t *testing.T) {
	e, err := parse(t, goodExperiment)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := e.Plan()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pts {
		got = append(got, p.Label()+" | "+p.Spec)
	}
	want := []string{
		"aligned | router aligned",
		"nudging@0.3 | router nudging:0.3",
		"nudging@0.6 | router nudging:0.6",
		"sweep@0.5 | router p-punc:0.5",
		"aligned-temperature@0.7 | aligned T=0.7",
		"aligned-temperature@1.3 | aligned T=1.3",
		"myrule@0.2 | rule " + pts[7].Spec[5:17] + ` vars {"gamma":0.2}`,
		"myrule@0.4 | rule " + pts[7].Spec[5:17] + ` vars {"gamma":0.4}`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if pts[4].Sampling == nil || pts[4].Sampling.Temperature != 0.7 || pts[4].Param != ParamTemperature {
		t.Errorf("temperature point: %+v", pts[4])
	}
	if e.Samples != 3 || e.MaxTokens != 32 || e.Boundary != "word" || e.Out != DefaultOut || e.Sampling.Params().Temperature != 0.8 {
		t.Errorf("fields: %+v", e)
	}
}

// Every malformed experiment gives an error naming the field.
func TestExperimentErrors(t *testing.T) {
	head := "base: b.gguf\naligned: a.gguf\nprompts: p.jsonl\n"
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"unknown top field", head + "method: []\n", []string{`unknown field "method"`, "line 4", "methods"}},
		{"unknown method field", head + "methods:\n  - router: p\n    gama: [0.1]\n", []string{`unknown field "methods[0].gama"`, "line 6", "gamma"}},
		{"bad gamma", head + "methods:\n  - router: p\n    gamma: [0.1, abc]\n", []string{"methods[0].gamma[1]", "line 6", "want a number"}},
		{"bad samples", head + "samples: many\nmethods: [{router: base}]\n", []string{"samples (line 4)", "int"}},
		{"unknown router", head + "methods:\n  - router: nope\n", []string{"methods[0].router", `unknown router "nope"`, "nudging"}},
		{"missing gamma", head + "methods:\n  - router: p-punc\n", []string{"methods[0].gamma", "needs a γ grid"}},
		{"gamma out of range", head + "methods:\n  - router: nudging\n    gamma: [0.5, 1.5]\n", []string{"methods[0].gamma[1]", "out of range", "[0, 1]"}},
		{"gamma on base", head + "methods:\n  - router: base\n    gamma: [0.5]\n", []string{"methods[0].gamma", "takes no γ"}},
		{"repeated gamma", head + "methods:\n  - router: p\n    gamma: [0.5, 0.5]\n", []string{"methods[0].gamma", "twice"}},
		{"no methods", head, []string{"methods", "required"}},
		{"empty method", head + "methods:\n  - name: x\n", []string{"methods[0]", "one of router, rule, policy or temperature"}},
		{"two kinds", head + "methods:\n  - router: p\n    rule: 'true'\n    gamma: [0.1]\n", []string{"methods[0]", "only one of router, rule or policy"}},
		{"duplicate names", head + "methods:\n  - router: base\n  - router: base\n", []string{"methods[1].name", "also the name of methods[0]"}},
		{"bad rule", head + "methods:\n  - name: r\n    rule: 'base.nope > 1'\n", []string{"methods[0].rule", "nope"}},
		{"temperature with gamma", head + "methods:\n  - temperature: [1]\n    gamma: [0.1]\n", []string{"methods[0]", "temperature sweep"}},
		{"negative temperature", head + "methods:\n  - temperature: [-1]\n", []string{"methods[0].temperature[0]", "temperature"}},
		{"missing base", "aligned: a\nprompts: p\nmethods: [{router: base}]\n", []string{"base", "required"}},
		{"bad boundary", head + "boundary: char\nmethods: [{router: base}]\n", []string{"boundary", `"char"`}},
		{"bad sampling", head + "sampling: {top_p: 2}\nmethods: [{router: base}]\n", []string{"sampling", "top_p"}},
		{"half embeddings", head + "embeddings: {url: http://x/v1}\nmethods: [{router: base}]\n", []string{"embeddings", "url and model"}},
		{"half judge", head + "judge: {model: m}\nmethods: [{router: base}]\n", []string{"judge", "url and model"}},
		{"not a mapping", "- a\n- b\n", []string{"want a mapping"}},
		{"bad yaml", "base: [\n", []string{"exp.yaml", "line"}},
		{"bad name", head + "methods:\n  - name: 'a b'\n    router: base\n", []string{"methods[0].name", "letters"}},
	}
	for _, tc := range tests {
		_, err := parse(t, tc.doc)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if !errors.Is(err, ErrExperiment) {
			t.Errorf("%s: error %v is not ErrExperiment", tc.name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", tc.name, err, w)
			}
		}
	}
}

func TestLoadExperimentResolvesPaths(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "exp.yaml")
	os.WriteFile(p, []byte("base: m/b.gguf\naligned: /abs/a.gguf\nprompts: p.csv\nmethods: [{router: base}]\nout: run\n"), 0o644)
	e, err := LoadExperiment(p)
	if err != nil {
		t.Fatal(err)
	}
	e.Resolve()
	if e.Base != filepath.Join(dir, "m/b.gguf") || e.Aligned != "/abs/a.gguf" || e.Prompts != filepath.Join(dir, "p.csv") || e.Out != filepath.Join(dir, "run") {
		t.Errorf("paths: %q %q %q %q", e.Base, e.Aligned, e.Prompts, e.Out)
	}
	if _, err := LoadExperiment(filepath.Join(dir, "missing.yaml")); !errors.Is(err, ErrExperiment) {
		t.Errorf("missing file: %v", err)
	}
}

func TestParseMethod(t *testing.T) {
	tests := []struct {
		in   string
		want Method
	}{
		{"aligned", Method{Router: "aligned"}},
		{"nudging:0.3,0.5", Method{Router: "nudging", Gamma: Floats{0.3, 0.5}}},
		{"best=P-Punc:0.4", Method{Name: "best", Router: "p-punc", Gamma: Floats{0.4}}},
		{"temperature:0.7,1.3", Method{Temperature: Floats{0.7, 1.3}}},
		{"base-temperature:1", Method{Router: "base", Temperature: Floats{1}}},
	}
	for _, tc := range tests {
		got, err := ParseMethod(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseMethod(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"p:0.1,x", "temperature"} {
		if _, err := ParseMethod(bad); !errors.Is(err, ErrExperiment) {
			t.Errorf("ParseMethod(%q): %v", bad, err)
		}
	}
}

func TestLoadPrompts(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	ps, err := LoadPrompts(write("a.jsonl", `{"id":"x","prompt":"Tell a story","system":"Be brief"}`+"\n\n"+`{"prompt":"Second"}`+"\n"+`{"id":7,"prompt":"Third"}`+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Prompt{{ID: "x", Text: "Tell a story", System: "Be brief"}, {ID: "2", Text: "Second"}, {ID: "7", Text: "Third"}}
	if !reflect.DeepEqual(ps.Prompts, want) || len(ps.Digest) != 64 {
		t.Errorf("jsonl: %+v", ps)
	}
	ps, err = LoadPrompts(write("b.csv", "prompt,id,system\n\"Hello, world\",h1,\nBye,h2,Sys\n"))
	if err != nil {
		t.Fatal(err)
	}
	want = []Prompt{{ID: "h1", Text: "Hello, world"}, {ID: "h2", Text: "Bye", System: "Sys"}}
	if !reflect.DeepEqual(ps.Prompts, want) {
		t.Errorf("csv: %+v", ps.Prompts)
	}
	bad := []struct {
		name, body string
		want       []string
	}{
		{"e.jsonl", "", []string{"no prompts"}},
		{"e2.jsonl", "\n\n", []string{"no prompts"}},
		{"e.csv", "id,prompt\n", []string{"no prompts"}},
		{"m.jsonl", `{"id":"a"}` + "\n", []string{"line 1", `"prompt"`, "missing"}},
		{"u.jsonl", `{"prompt":"a","txt":"b"}` + "\n", []string{"line 1", `unknown field "txt"`}},
		{"j.jsonl", `{"prompt":"a"}` + "\n{oops\n", []string{"line 2", "JSON"}},
		{"d.jsonl", `{"id":"a","prompt":"x"}` + "\n" + `{"id":"a","prompt":"y"}` + "\n", []string{"line 2", `"id"`, "line 1"}},
		{"h.csv", "text\nhello\n", []string{"unknown column", "text"}},
		{"n.csv", "id\nx\n", []string{`no "prompt" column`}},
		{"x.txt", "hello\n", []string{"unknown format"}},
		{"p.csv", "id,prompt\na,\n", []string{"line 2", `"prompt"`}},
	}
	for _, b := range bad {
		_, err := LoadPrompts(write(b.name, b.body))
		if err == nil || !errors.Is(err, ErrExperiment) {
			t.Errorf("%s: %v", b.name, err)
			continue
		}
		for _, w := range b.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", b.name, err, w)
			}
		}
	}
}

func TestCheckManifest(t *testing.T) {
	dir := t.TempDir()
	m := Manifest{Version: 1, Base: "b", Aligned: "a", Samples: 2, Seed: 1, Stop: []string{}}
	if err := checkManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	if err := checkManifest(dir, m); err != nil {
		t.Fatalf("same manifest: %v", err)
	}
	m.Seed, m.Samples = 2, 3
	err := checkManifest(dir, m)
	if err == nil || !strings.Contains(err.Error(), "seed was 1, now 2") || !strings.Contains(err.Error(), "samples was 2, now 3") {
		t.Fatalf("changed manifest: %v", err)
	}
}

// The example experiment of examples/eval parses, validates and plans (the
// models need not exist for that), and its prompts load.
func TestExampleExperiment(t *testing.T) {
	e, err := LoadExperiment(filepath.Join("..", "examples", "eval", "experiment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e.SetDefaults()
	e.Resolve()
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	pts, err := e.Plan()
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 1+1+4+4+5+5+4+3 {
		t.Errorf("%d points", len(pts))
	}
	ps, err := LoadPrompts(e.Prompts)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps.Prompts) != 12 {
		t.Errorf("%d prompts", len(ps.Prompts))
	}
}
