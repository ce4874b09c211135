package eval_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/engine"
	"github.com/baco-go/baco/eval"
	"github.com/baco-go/baco/eval/metrics"
	"github.com/baco-go/baco/internal/testdata"
	"github.com/baco-go/baco/pipeline"
)

// The tiny experiment of the CI test: base = aligned = stories260K (only
// acceptable for this plumbing test), 2 prompts × 2 samples × 6 points
// (a temperature sweep, nudging and p-punc, each at two values), 16 tokens.
const (
	nPrompts = 2
	nSamples = 2
	nPoints  = 6
)

func experimentYAML(model string) string {
	return fmt.Sprintf(`base: %[1]s
aligned: %[1]s
prompts: prompts.jsonl
samples: %[2]d
seed: 7
max_tokens: 16
context_len: 512
methods:
  - temperature: [0.7, 1.3]
  - router: nudging
    gamma: [0.3, 0.6]
  - router: p-punc
    gamma: [0.3, 0.6]
out: run
`, model, nSamples)
}

const promptsJSONL = `{"id":"lily","prompt":"Once upon a time, there was a little girl named Lily."}
{"id":"dog","prompt":"The dog ran to the park.","system":"You tell short stories."}
`

// setup writes the experiment and the prompts into a new folder and
// returns the experiment file.
func setup(t *testing.T) string {
	t.Helper()
	m := testdata.Path(t, "models/stories260K.gguf")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prompts.jsonl"), []byte(promptsJSONL), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "experiment.yaml")
	if err := os.WriteFile(p, []byte(experimentYAML(m)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// load reads and validates an experiment file as the CLI does.
func load(path string) (*eval.Experiment, error) {
	e, err := eval.LoadExperiment(path)
	if err != nil {
		return nil, err
	}
	e.SetDefaults()
	e.Resolve()
	return e, e.Validate()
}

// opener loads GGUF models with the experiment's context length on one
// thread; wrap, when set, wraps every backend.
func opener(e *eval.Experiment, wrap func(backend.Backend) backend.Backend) pipeline.Opener {
	return func(ctx context.Context, ref string) (backend.Backend, error) {
		be, err := engine.Load(ref, engine.WithContextLen(e.ContextLen), engine.WithThreads(1))
		if err != nil {
			return nil, err
		}
		if wrap != nil {
			return wrap(be), nil
		}
		return be, nil
	}
}

// readLines returns the lines of a JSONL file (every line must end with a
// newline).
func readLines(t *testing.T, p string) []string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("%s ends with a partial line", p)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// checkGenerations checks that the journal holds exactly one row per
// (method, gamma, prompt, sample) of the plan, and returns its lines.
func checkGenerations(t *testing.T, dir string) []string {
	t.Helper()
	lines := readLines(t, filepath.Join(dir, eval.GenerationsFile))
	if len(lines) != nPrompts*nSamples*nPoints {
		t.Fatalf("%d rows in %s, want %d", len(lines), eval.GenerationsFile, nPrompts*nSamples*nPoints)
	}
	seen := map[string]bool{}
	for i, l := range lines {
		var g eval.Generation
		if err := json.Unmarshal([]byte(l), &g); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		k := eval.GenKey(g.Method, g.Gamma, g.Prompt, g.Sample)
		if seen[k] {
			t.Fatalf("line %d repeats %q", i+1, k)
		}
		seen[k] = true
		if g.Tokens == 0 || g.Tokens > 16 || len(g.IDs) > 16 || g.Spec == "" {
			t.Fatalf("line %d: implausible row %+v", i+1, g)
		}
	}
	return lines
}

func TestEndToEndStories(t *testing.T) {
	path := setup(t)
	e, err := load(path)
	if err != nil {
		t.Fatal(err)
	}
	var prog bytes.Buffer
	ctx := context.Background()
	sum, err := eval.Run(ctx, eval.Options{Experiment: e, Open: opener(e, nil), Progress: &prog})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != nPrompts*nSamples*nPoints || sum.Generated != sum.Rows || sum.Scored != nPrompts*nPoints {
		t.Fatalf("summary %+v", sum)
	}
	dir := sum.Dir
	checkGenerations(t, dir)
	if !strings.Contains(prog.String(), "generate: 24/24 samples (100%)") || !strings.Contains(prog.String(), "tok/s") ||
		!strings.Contains(prog.String(), "score: 12/12 groups") {
		t.Errorf("progress output:\n%s", prog.String())
	}
	if n := len(readLines(t, filepath.Join(dir, eval.ScoresFile))); n != nPrompts*nPoints {
		t.Errorf("%d score lines, want %d", n, nPrompts*nPoints)
	}

	// metrics.json: every point has every lexical measure, the semantic
	// ones (offline embeddings) and the log-likelihood; the planes cover
	// every diversity measure against loglik.
	var res eval.Results
	b, err := os.ReadFile(filepath.Join(dir, eval.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Points) != nPoints {
		t.Fatalf("%d points", len(res.Points))
	}
	for _, p := range res.Points {
		for _, m := range []string{metrics.Distinct1, metrics.Distinct2, metrics.OneMinusSelfBLEU, metrics.CompressionName,
			metrics.RougeLDist, metrics.EmbedCosineDist, metrics.VendiName, metrics.LogLik, metrics.PerplexityName, metrics.Length} {
			v, ok := p.Values[m]
			if !ok {
				t.Errorf("%s@%v lacks %s", p.Method, p.Gamma, m)
				continue
			}
			// Independent sanity bounds of each measure's definition.
			switch m {
			case metrics.Distinct1, metrics.Distinct2, metrics.OneMinusSelfBLEU, metrics.RougeLDist:
				if v < 0 || v > 1 {
					t.Errorf("%s = %v outside [0,1]", m, v)
				}
			case metrics.VendiName:
				if v < 1-1e-9 || v > nSamples+1e-9 {
					t.Errorf("vendi = %v outside [1, %d]", v, nSamples)
				}
			case metrics.LogLik:
				if v > 0 {
					t.Errorf("loglik = %v > 0", v)
				}
			}
		}
		// base = aligned, so the perplexity is exp(−loglik) per sample; the
		// mean of exp is at least exp of the mean (Jensen).
		if p.Values[metrics.PerplexityName] < 1 {
			t.Errorf("perplexity %v < 1", p.Values[metrics.PerplexityName])
		}
	}
	if len(res.Planes) != 10 {
		t.Errorf("%d planes, want 10 (every diversity measure × loglik)", len(res.Planes))
	}
	for _, pl := range res.Planes {
		sum := 0.0
		for _, m := range pl.Methods {
			sum += m.Dominance
			if m.Coverage < 0 || m.Coverage > 1 {
				t.Errorf("%s: coverage %v", pl.Plot, m.Coverage)
			}
		}
		if sum < 1-1e-9 || sum > 1+1e-9 {
			t.Errorf("%s: dominances sum to %v", pl.Plot, sum)
		}
		// Plots: valid PNG and SVG.
		pb, err := os.ReadFile(filepath.Join(dir, eval.PlotsDir, pl.Plot+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(pb)); err != nil {
			t.Errorf("%s.png: %v", pl.Plot, err)
		}
		sb, err := os.ReadFile(filepath.Join(dir, eval.PlotsDir, pl.Plot+".svg"))
		if err != nil {
			t.Fatal(err)
		}
		var root struct{ XMLName xml.Name }
		if err := xml.Unmarshal(sb, &root); err != nil || root.XMLName.Local != "svg" {
			t.Errorf("%s.svg: root %q, %v", pl.Plot, root.XMLName.Local, err)
		}
	}

	// CSV files parse with one row per point / per plane and method.
	for file, rows := range map[string]int{eval.MetricsCSV: nPoints + 1, eval.PlanesCSV: len(res.Planes)*3 + 1} {
		f, err := os.Open(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil || len(recs) != rows {
			t.Errorf("%s: %d records, %v; want %d", file, len(recs), err, rows)
		}
	}

	// The report parses, inlines one SVG per plane and loads nothing.
	hb, err := os.ReadFile(filepath.Join(dir, eval.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(hb))
	if err != nil {
		t.Fatal(err)
	}
	var svgs, tables int
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "svg":
				svgs++
			case "table":
				tables++
			case "img", "script", "link":
				for _, a := range n.Attr {
					if a.Key == "src" || a.Key == "href" {
						t.Errorf("report loads %s %q", n.Data, a.Val)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if svgs != len(res.Planes) || tables != len(res.Planes)+3 {
		t.Errorf("report: %d svg, %d tables; want %d and %d", svgs, tables, len(res.Planes), len(res.Planes)+3)
	}

	// A second run finds everything done: nothing generated or scored,
	// the journal unchanged.
	before, _ := os.ReadFile(filepath.Join(dir, eval.GenerationsFile))
	sum2, err := eval.Run(ctx, eval.Options{Experiment: e, Open: opener(e, nil)})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, eval.GenerationsFile))
	if sum2.Generated != 0 || sum2.Scored != 0 || !bytes.Equal(before, after) {
		t.Errorf("rerun generated %d, scored %d, journal changed %v", sum2.Generated, sum2.Scored, !bytes.Equal(before, after))
	}

	// A group with one sample missing (a kill between two appends of the
	// same group) regenerates only that sample, and identically: sample k
	// depends only on the seed and k, not on how many samples the batch
	// holds.
	lines := strings.SplitAfter(string(after), "\n")
	removed := lines[6] // sample 0 of the fourth group
	if err := os.WriteFile(filepath.Join(dir, eval.GenerationsFile), []byte(strings.Join(append(lines[:6:6], lines[7:]...), "")), 0o644); err != nil {
		t.Fatal(err)
	}
	sum3, err := eval.Run(ctx, eval.Options{Experiment: e, Open: opener(e, nil)})
	if err != nil {
		t.Fatal(err)
	}
	final := checkGenerations(t, dir)
	if sum3.Generated != 1 || final[len(final)-1]+"\n" != removed {
		t.Errorf("regenerated %d samples; last line\n%s\nwant\n%s", sum3.Generated, final[len(final)-1], removed)
	}

	// The same directory with another seed is refused, naming the field.
	e.Seed = 8
	if _, err := eval.Run(ctx, eval.Options{Experiment: e, Open: opener(e, nil)}); err == nil || !strings.Contains(err.Error(), "seed was 7, now 8") {
		t.Errorf("changed seed: %v", err)
	}
}
