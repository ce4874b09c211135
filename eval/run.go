package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/chat"
	"github.com/baco-go/baco/core/decode"
	"github.com/baco-go/baco/core/prompt"
	"github.com/baco-go/baco/core/sample"
	"github.com/baco-go/baco/eval/rundir"
	"github.com/baco-go/baco/pipeline"
)

// Files of a run directory.
const (
	GenerationsFile = "generations.jsonl"
	ScoresFile      = "scores.jsonl"
	ManifestFile    = "manifest.json"
	MetricsFile     = "metrics.json"
	MetricsCSV      = "metrics.csv"
	PlanesCSV       = "planes.csv"
	ReportFile      = "report.html"
	PlotsDir        = "plots"
	lockFile        = "run.lock"
)

// Generation is one line of generations.jsonl: one sample of one prompt at
// one point. Its key is (method, gamma, prompt, sample).
type Generation struct {
	// Method is the method's label.
	Method string `json:"method"`
	// Gamma is the sweep value (γ, or the temperature of a temperature
	// sweep; see Param), null for a method without a sweep.
	Gamma *float64 `json:"gamma"`
	// Param names what Gamma is ("gamma" or "temperature").
	Param string `json:"param,omitempty"`
	// Prompt is the prompt id.
	Prompt string `json:"prompt"`
	// Sample is the sample index.
	Sample int `json:"sample"`
	// Text is the generated text.
	Text string `json:"text"`
	// IDs are the generated token ids (the stop token excluded).
	IDs []int32 `json:"ids"`
	// Tokens counts emitted tokens (the stop token included).
	Tokens int `json:"tokens"`
	// BaseTokens counts tokens emitted by the base model.
	BaseTokens int `json:"base_tokens"`
	// Finish is "stop" or "length".
	Finish string `json:"finish"`
	// Spec is the point's spec (Point.Spec).
	Spec string `json:"spec"`
}

// GenKey is the key of a generation.
func GenKey(method string, gamma *float64, promptID string, sampleIdx int) string {
	return method + "\x1f" + GammaKey(gamma) + "\x1f" + promptID + "\x1f" + strconv.Itoa(sampleIdx)
}

func genKey(g *Generation) string { return GenKey(g.Method, g.Gamma, g.Prompt, g.Sample) }

// Score is one line of scores.jsonl: the measures of one prompt's samples
// at one point, computed by one scorer configuration.
type Score struct {
	// Method, Gamma and Prompt identify the group.
	Method string   `json:"method"`
	Gamma  *float64 `json:"gamma"`
	Prompt string   `json:"prompt"`
	// Scorer identifies the scoring configuration (quality model,
	// embedder, judge); a changed configuration rescores.
	Scorer string `json:"scorer"`
	// Samples counts the samples scored.
	Samples int `json:"samples"`
	// Values maps measure names to values; undefined measures are absent.
	Values map[string]float64 `json:"values"`
	// Notes says why a measure is absent.
	Notes map[string]string `json:"notes,omitempty"`
}

func scoreKey(s *Score) string {
	return s.Method + "\x1f" + GammaKey(s.Gamma) + "\x1f" + s.Prompt + "\x1f" + s.Scorer
}

// Manifest is manifest.json: the settings that decide what a run
// generates. A run directory refuses an experiment whose manifest differs.
type Manifest struct {
	Version       int           `json:"version"`
	Base          string        `json:"base"`
	Aligned       string        `json:"aligned"`
	PromptsDigest string        `json:"prompts_sha256"`
	Samples       int           `json:"samples"`
	Seed          uint64        `json:"seed"`
	MaxTokens     int           `json:"max_tokens"`
	Sampling      sample.Params `json:"sampling"`
	Stop          []string      `json:"stop"`
	Boundary      string        `json:"boundary"`
	AlignedPrompt string        `json:"aligned_prompt"`
	ChatTemplate  string        `json:"chat_template"`
	ContextLen    int           `json:"context_len"`
}

// modelID names a model file by base name and size, so a run can move
// between machines but not silently change models.
func modelID(path string) string {
	id := filepath.Base(path)
	if st, err := os.Stat(path); err == nil {
		id += fmt.Sprintf(" (%d bytes)", st.Size())
	}
	return id
}

func (e *Experiment) manifest(ps *PromptSet) Manifest {
	stop := e.Stop
	if stop == nil {
		stop = []string{}
	}
	return Manifest{Version: 1, Base: modelID(e.Base), Aligned: modelID(e.Aligned), PromptsDigest: ps.Digest,
		Samples: e.Samples, Seed: e.Seed, MaxTokens: e.MaxTokens, Sampling: e.Sampling.Params(), Stop: stop,
		Boundary: e.Boundary, AlignedPrompt: e.AlignedPrompt, ChatTemplate: e.ChatTemplate, ContextLen: e.ContextLen}
}

// checkManifest writes the manifest of a new run directory or compares it
// with the existing one, naming every field that differs.
func checkManifest(dir string, m Manifest) error {
	p := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		nb, _ := json.MarshalIndent(m, "", "  ")
		return rundir.WriteFileAtomic(p, append(nb, '\n'))
	}
	if err != nil {
		return err
	}
	var old Manifest
	if err := json.Unmarshal(b, &old); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	var diffs []string
	ov, nv := reflect.ValueOf(old), reflect.ValueOf(m)
	for i := range ov.NumField() {
		if !reflect.DeepEqual(ov.Field(i).Interface(), nv.Field(i).Interface()) {
			tag, _, _ := strings.Cut(ov.Type().Field(i).Tag.Get("json"), ",")
			diffs = append(diffs, fmt.Sprintf("%s was %v, now %v", tag, ov.Field(i).Interface(), nv.Field(i).Interface()))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%w: run directory %s was started by a different experiment (%s); use another out directory or restore the settings",
			ErrExperiment, dir, strings.Join(diffs, "; "))
	}
	return nil
}

// Options configure Run.
type Options struct {
	// Experiment is the validated experiment (SetDefaults, Resolve and
	// Validate done).
	Experiment *Experiment
	// Open resolves model references to backends.
	Open pipeline.Opener
	// OpenLocal, when set, loads a model into this process; the offline
	// embedder uses it to pool the engine's final hidden states (through
	// Open, a plugin backend only gives next-token distributions).
	OpenLocal pipeline.Opener
	// Log receives diagnostics (nil: slog.Default()).
	Log *slog.Logger
	// Progress receives progress lines (nil: none).
	Progress io.Writer
	// Getenv reads API keys (nil: os.Getenv).
	Getenv func(string) string
}

// Summary is what Run did.
type Summary struct {
	// Dir is the run directory.
	Dir string
	// Points, Prompts and Samples size the run; Rows = their product.
	Points, Prompts, Samples, Rows int
	// Generated counts samples generated by this call (the rest were in
	// the run directory already).
	Generated int
	// Scored counts groups scored by this call.
	Scored int
	// Results are the aggregated measures.
	Results *Results
}

// Run generates every missing sample into the run directory, scores every
// unscored group and writes metrics.json, metrics.csv, planes.csv, the
// plots and report.html. A run killed at any moment resumes where it
// stopped: samples and scores already written are kept and never
// duplicated.
func Run(ctx context.Context, o Options) (*Summary, error) {
	e := o.Experiment
	if e == nil || o.Open == nil {
		return nil, errors.New("eval: Run needs an experiment and an opener")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	ps, err := LoadPrompts(e.Prompts)
	if err != nil {
		return nil, err
	}
	points, err := e.Plan()
	if err != nil {
		return nil, err
	}
	dir := e.Out
	if err := os.MkdirAll(filepath.Join(dir, PlotsDir), 0o755); err != nil {
		return nil, fmt.Errorf("eval: run directory: %w", err)
	}
	lock, err := rundir.TryLock(filepath.Join(dir, lockFile))
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	defer lock.Unlock()
	if err := checkManifest(dir, e.manifest(ps)); err != nil {
		return nil, err
	}
	gens, err := rundir.OpenJournal(filepath.Join(dir, GenerationsFile), genKey, o.Log)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	defer gens.Close()
	if err := checkSpecs(dir, gens.Records(), points); err != nil {
		return nil, err
	}
	r := &runner{o: o, e: e, ps: ps, points: points, gens: gens, dir: dir, prompts: map[string]promptTokens{}}
	defer r.close()
	sum := &Summary{Dir: dir, Points: len(points), Prompts: len(ps.Prompts), Samples: e.Samples,
		Rows: len(points) * len(ps.Prompts) * e.Samples}
	if sum.Generated, err = r.generate(ctx); err != nil {
		return nil, err
	}
	scores, err := rundir.OpenJournal(filepath.Join(dir, ScoresFile), scoreKey, o.Log)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	defer scores.Close()
	if sum.Scored, err = r.score(ctx, scores); err != nil {
		return nil, err
	}
	res, err := r.aggregate(scores)
	if err != nil {
		return nil, err
	}
	if err := r.write(res); err != nil {
		return nil, err
	}
	sum.Results = res
	return sum, nil
}

// checkSpecs refuses a run directory whose samples for a planned point were
// generated by a different spec (a method renamed onto another one, a
// changed rule).
func checkSpecs(dir string, rows []Generation, points []Point) error {
	want := map[string]string{}
	for i := range points {
		want[points[i].Method+"\x1f"+GammaKey(points[i].Gamma())] = points[i].Spec
	}
	for _, g := range rows {
		k := g.Method + "\x1f" + GammaKey(g.Gamma)
		if w, ok := want[k]; ok && w != g.Spec {
			return fmt.Errorf("%w: run directory %s: method %q at %s %s was generated by %q, the experiment now says %q; use another out directory or rename the method",
				ErrExperiment, dir, g.Method, g.Param, GammaKey(g.Gamma), g.Spec, w)
		}
	}
	return nil
}

// promptTokens are one prompt's tokens for each model.
type promptTokens struct{ base, aligned []int32 }

// runner holds one Run's state.
type runner struct {
	o       Options
	e       *Experiment
	ps      *PromptSet
	points  []Point
	gens    *rundir.Journal[Generation]
	dir     string
	pipe    *pipeline.Pipeline
	aligned backend.Backend // the aligned model for scoring when no pipeline is open
	extra   []backend.Backend
	prompts map[string]promptTokens
}

func (r *runner) close() {
	if r.pipe != nil {
		r.pipe.Close()
	}
	if r.aligned != nil && (r.pipe == nil || r.aligned != r.pipe.Aligned) {
		r.aligned.Close()
	}
	for _, b := range r.extra {
		b.Close()
	}
}

// pipeline opens both models once.
func (r *runner) pipeline(ctx context.Context) (*pipeline.Pipeline, error) {
	if r.pipe != nil {
		return r.pipe, nil
	}
	p, err := pipeline.Open(ctx, pipeline.Spec{Base: r.e.Base, Aligned: r.e.Aligned, Boundary: r.e.Boundary,
		Router: pipeline.RouterSpec{Name: "aligned"}}, r.o.Open, r.o.Log)
	if err != nil {
		return nil, err
	}
	r.pipe = p
	return p, nil
}

// alignedModel returns the aligned backend, opening only it when no
// generation was needed.
func (r *runner) alignedModel(ctx context.Context) (backend.Backend, error) {
	if r.pipe != nil {
		return r.pipe.Aligned, nil
	}
	if r.aligned == nil {
		be, err := r.o.Open(ctx, r.e.Aligned)
		if err != nil {
			return nil, fmt.Errorf("aligned model %s: %w", r.e.Aligned, err)
		}
		r.aligned = be
	}
	return r.aligned, nil
}

func messages(p Prompt) prompt.Input {
	var msgs []chat.Message
	if p.System != "" {
		msgs = append(msgs, chat.Message{Role: "system", Content: p.System})
	}
	return prompt.Input{Messages: append(msgs, chat.Message{Role: "user", Content: p.Text})}
}

func (r *runner) alignedSpec() prompt.Spec {
	switch r.e.AlignedPrompt {
	case "chat":
		return prompt.Spec{Mode: prompt.Chat, Template: r.e.ChatTemplate}
	case "raw":
		return prompt.Spec{Mode: prompt.Raw}
	}
	return prompt.Spec{Mode: prompt.Auto, Template: r.e.ChatTemplate}
}

// alignedTokens builds the aligned model's prompt of p.
func (r *runner) alignedTokens(ctx context.Context, be backend.Backend, p Prompt) ([]int32, error) {
	if t, ok := r.prompts[p.ID]; ok && t.aligned != nil {
		return t.aligned, nil
	}
	info, err := be.Info(ctx)
	if err != nil {
		return nil, err
	}
	ids, err := prompt.Build(ctx, be, info, r.alignedSpec(), messages(p))
	if err != nil {
		return nil, fmt.Errorf("%w: prompt %q: %w", ErrExperiment, p.ID, err)
	}
	t := r.prompts[p.ID]
	t.aligned = ids
	r.prompts[p.ID] = t
	return ids, nil
}

func (r *runner) tokens(ctx context.Context, p *pipeline.Pipeline, pr Prompt) (promptTokens, error) {
	if t, ok := r.prompts[pr.ID]; ok && t.base != nil && t.aligned != nil {
		return t, nil
	}
	bi := p.Decoder.BaseInfo()
	b, err := prompt.Build(ctx, p.Base, bi, prompt.Spec{Mode: prompt.Raw}, messages(pr))
	if err != nil {
		return promptTokens{}, fmt.Errorf("prompt %q: %w", pr.ID, err)
	}
	a, err := r.alignedTokens(ctx, p.Aligned, pr)
	if err != nil {
		return promptTokens{}, err
	}
	t := promptTokens{base: b, aligned: a}
	r.prompts[pr.ID] = t
	return t, nil
}

// SeedFor is the seed of a prompt: the experiment's seed mixed with a hash
// of the prompt id, the same for every method (common random numbers).
func SeedFor(seed uint64, promptID string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(promptID))
	return seed ^ h.Sum64()
}

// generate fills generations.jsonl with every missing sample.
func (r *runner) generate(ctx context.Context) (int, error) {
	total := len(r.points) * len(r.ps.Prompts) * r.e.Samples
	have := 0
	for i := range r.points {
		for _, pr := range r.ps.Prompts {
			for s := range r.e.Samples {
				if r.gens.Has(GenKey(r.points[i].Method, r.points[i].Gamma(), pr.ID, s)) {
					have++
				}
			}
		}
	}
	if have == total {
		return 0, nil
	}
	prog := newProgress(r.o.Progress, "generate", "samples", have, total)
	base := r.e.Sampling.Params()
	generated := 0
	for i := range r.points {
		pt := &r.points[i]
		for _, pr := range r.ps.Prompts {
			var missing []int
			for s := range r.e.Samples {
				if !r.gens.Has(GenKey(pt.Method, pt.Gamma(), pr.ID, s)) {
					missing = append(missing, s)
				}
			}
			if len(missing) == 0 {
				continue
			}
			if err := ctx.Err(); err != nil {
				return generated, fmt.Errorf("eval: %w", err)
			}
			p, err := r.pipeline(ctx)
			if err != nil {
				return generated, err
			}
			toks, err := r.tokens(ctx, p, pr)
			if err != nil {
				return generated, err
			}
			params := base
			if pt.Sampling != nil {
				params = *pt.Sampling
			}
			req := decode.Request{BasePrompt: toks.base, AlignedPrompt: toks.aligned, N: missing[len(missing)-1] + 1,
				Seed: SeedFor(r.e.Seed, pr.ID), MaxTokens: r.e.MaxTokens, Stop: r.e.Stop,
				BaseSampling: params, AlignedSampling: params, Router: pt.Router}
			res, err := p.Decoder.Generate(ctx, req)
			if err != nil {
				return generated, fmt.Errorf("eval: %s, prompt %q: %w", pt.Label(), pr.ID, err)
			}
			ntok := 0
			for _, s := range missing {
				smp := res.Samples[s]
				g := Generation{Method: pt.Method, Gamma: pt.Gamma(), Param: pt.Param, Prompt: pr.ID, Sample: s,
					Text: smp.Text, IDs: slices.Clone(smp.IDs), Tokens: len(smp.Trace), BaseTokens: smp.BaseTokens,
					Finish: smp.Finish, Spec: pt.Spec}
				if g.IDs == nil {
					g.IDs = []int32{}
				}
				if err := r.gens.Append(g); err != nil {
					return generated, fmt.Errorf("eval: %w", err)
				}
				generated++
				ntok += len(smp.Trace)
			}
			prog.add(len(missing), ntok)
		}
	}
	return generated, nil
}
