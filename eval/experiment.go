// Package eval runs the BACo paper's diversity–quality evaluation: every
// method (a router with a γ grid, a rule, the Nudging baseline, the base and
// aligned models alone, a temperature sweep of one model) generates samples
// for every prompt into a resumable run directory; the samples are scored
// with lexical, semantic and quality measures (eval/metrics, eval/score);
// each diversity–quality plane gets one curve per method with its coverage
// and dominance (eval/frontier), a plot (eval/plots) and a section of an
// HTML report (eval/report). docs/eval.md is the user guide.
package eval

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/baco-go/baco/core/chat"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/core/sample"
)

// ErrExperiment marks an invalid experiment (file, flags, prompts): nothing
// ran. The CLI exits with code 2 on it.
var ErrExperiment = errors.New("invalid experiment")

// Limits on an experiment.
const (
	// MaxSamples bounds samples per prompt.
	MaxSamples = 1024
	// MaxTokensLimit bounds max_tokens.
	MaxTokensLimit = 1 << 20
	// MaxGridPoints bounds the values of one method's sweep.
	MaxGridPoints = 1000
	// MaxExperimentFile bounds the size of an experiment file.
	MaxExperimentFile = 1 << 20
)

// Defaults of an experiment.
const (
	DefaultSamples   = 4
	DefaultMaxTokens = 128
	DefaultOut       = "eval-run"
)

// Experiment is everything an evaluation run needs; it is read from one
// YAML file (LoadExperiment), from flags, or both.
type Experiment struct {
	// Base and Aligned are the two models (paths relative to the
	// experiment file).
	Base    string `yaml:"base" json:"base"`
	Aligned string `yaml:"aligned" json:"aligned"`
	// Prompts is the prompts file (JSONL or CSV with id, prompt and an
	// optional system column).
	Prompts string `yaml:"prompts" json:"prompts"`
	// Samples is the number of samples per prompt and method point.
	Samples int `yaml:"samples" json:"samples"`
	// Seed makes the run reproducible; every method gets the same seed for
	// a prompt (common random numbers).
	Seed uint64 `yaml:"seed" json:"seed"`
	// MaxTokens bounds each sample.
	MaxTokens int `yaml:"max_tokens" json:"max_tokens"`
	// Sampling is the sampling of both models in routed methods.
	Sampling Sampling `yaml:"sampling" json:"sampling"`
	// Stop strings end a sample.
	Stop []string `yaml:"stop" json:"stop,omitempty"`
	// Boundary is "word" (default) or "token".
	Boundary string `yaml:"boundary" json:"boundary"`
	// AlignedPrompt is "auto" (chat template when the model has one),
	// "chat" or "raw"; the base model always gets the raw prompt.
	AlignedPrompt string `yaml:"aligned_prompt" json:"aligned_prompt"`
	// ChatTemplate forces a chat template family for the aligned model.
	ChatTemplate string `yaml:"chat_template" json:"chat_template,omitempty"`
	// ContextLen overrides the models' context length (0: the model's).
	ContextLen int `yaml:"context_len" json:"context_len,omitempty"`
	// Threads is the engine's thread count (0: all cores).
	Threads int `yaml:"threads" json:"threads,omitempty"`
	// Methods are the methods compared.
	Methods []Method `yaml:"methods" json:"methods"`
	// Embeddings configures the semantic measures.
	Embeddings Embeddings `yaml:"embeddings" json:"embeddings"`
	// Judge configures the optional judge score.
	Judge JudgeConfig `yaml:"judge" json:"judge"`
	// Out is the run directory.
	Out string `yaml:"out" json:"out,omitempty"`

	// dir is the folder relative paths of the file are resolved against.
	dir string
	// source names the experiment file in errors ("" for flags only).
	source string
}

// Sampling are the sampling parameters of routed methods.
type Sampling struct {
	// Temperature of both models (default 1).
	Temperature *float64 `yaml:"temperature" json:"temperature,omitempty"`
	// TopP nucleus threshold (default 1: off).
	TopP *float64 `yaml:"top_p" json:"top_p,omitempty"`
	// TopK truncation (0: off).
	TopK int `yaml:"top_k" json:"top_k,omitempty"`
	// MinP truncation (0: off).
	MinP float64 `yaml:"min_p" json:"min_p,omitempty"`
}

// Params returns the sampling parameters with defaults filled in.
func (s Sampling) Params() sample.Params {
	p := sample.Default()
	if s.Temperature != nil {
		p.Temperature = *s.Temperature
	}
	if s.TopP != nil {
		p.TopP = *s.TopP
	}
	p.TopK, p.MinP = s.TopK, s.MinP
	return p
}

// Method is one method of the comparison: exactly one of Router, Rule or
// Policy, or a Temperature sweep (of the aligned model unless Router says
// "base").
type Method struct {
	// Name labels the method in files, tables and plots (default: the
	// router's name, "aligned-temperature" for a temperature sweep).
	Name string `yaml:"name" json:"name"`
	// Router is a built-in router name ("p-punc", "nudging", "base"...).
	Router string `yaml:"router" json:"router,omitempty"`
	// Rule is an expr rule (docs/policies.md); a γ grid is passed to it as
	// vars.gamma.
	Rule string `yaml:"rule" json:"rule,omitempty"`
	// Policy is a YAML policy file; a γ grid overrides its vars.gamma.
	Policy string `yaml:"policy" json:"policy,omitempty"`
	// Gamma is the γ grid (one point per value).
	Gamma Floats `yaml:"gamma" json:"gamma,omitempty"`
	// Vars are constants for a rule or policy (vars.<name>).
	Vars map[string]any `yaml:"vars" json:"vars,omitempty"`
	// Temperature is a temperature grid: plain sampling of one model (the
	// aligned one by default) at each temperature, the paper's
	// temperature-sweep baseline.
	Temperature Floats `yaml:"temperature" json:"temperature,omitempty"`
}

// Embeddings chooses where the semantic measures' embeddings come from: an
// OpenAI-compatible /v1/embeddings endpoint (URL and Model), or offline a
// GGUF model (GGUF; default the aligned model). Disabled skips them.
type Embeddings struct {
	// URL is the API base, e.g. http://localhost:8000/v1.
	URL string `yaml:"url" json:"url,omitempty"`
	// Model is the embedding model name at URL.
	Model string `yaml:"model" json:"model,omitempty"`
	// APIKeyEnv names the environment variable holding the API key.
	APIKeyEnv string `yaml:"api_key_env" json:"api_key_env,omitempty"`
	// GGUF is the offline embedding model (default: the aligned model).
	GGUF string `yaml:"gguf" json:"gguf,omitempty"`
	// Disabled turns the semantic measures off.
	Disabled bool `yaml:"disabled" json:"disabled,omitempty"`
}

// JudgeConfig configures the judge score (off unless URL and Model are set).
type JudgeConfig struct {
	// URL is the API base, e.g. http://localhost:8000/v1.
	URL string `yaml:"url" json:"url,omitempty"`
	// Model is the judge model name.
	Model string `yaml:"model" json:"model,omitempty"`
	// APIKeyEnv names the environment variable holding the API key.
	APIKeyEnv string `yaml:"api_key_env" json:"api_key_env,omitempty"`
	// Prompt replaces the default judge instruction; it must contain
	// {{response}} and may contain {{prompt}}.
	Prompt string `yaml:"prompt" json:"prompt,omitempty"`
}

// Enabled reports whether a judge is configured.
func (j JudgeConfig) Enabled() bool { return j.URL != "" || j.Model != "" }

// Floats is a list of numbers that YAML may also give as one number.
type Floats []float64

// UnmarshalYAML accepts a number or a sequence of numbers.
func (f *Floats) UnmarshalYAML(n *yaml.Node) error {
	parse := func(s *yaml.Node) (float64, error) {
		if s.Kind != yaml.ScalarNode || (s.Tag != "!!int" && s.Tag != "!!float") {
			return 0, &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want a number, got %q", s.Line, s.Value)}}
		}
		v, err := strconv.ParseFloat(s.Value, 64)
		if err != nil {
			return 0, &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want a number, got %q", s.Line, s.Value)}}
		}
		return v, nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			*f = nil
			return nil
		}
		v, err := parse(n)
		if err != nil {
			return err
		}
		*f = Floats{v}
		return nil
	case yaml.SequenceNode:
		if len(n.Content) > MaxGridPoints {
			return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %d values, at most %d", n.Line, len(n.Content), MaxGridPoints)}}
		}
		out := make(Floats, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := parse(c)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		*f = out
		return nil
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want a number or a list of numbers", n.Line)}}
}

// LoadExperiment reads and validates an experiment file. Relative paths in
// it are resolved against the file's folder. Errors name the file, the
// field and, for YAML errors, the line.
func LoadExperiment(path string) (*Experiment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: experiment file: %w", ErrExperiment, err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxExperimentFile+1)); err != nil {
		return nil, fmt.Errorf("%w: experiment file %s: %w", ErrExperiment, path, err)
	}
	if buf.Len() > MaxExperimentFile {
		return nil, fmt.Errorf("%w: experiment file %s: larger than %d bytes", ErrExperiment, path, MaxExperimentFile)
	}
	e, err := ParseExperiment(buf.Bytes(), path)
	if err != nil {
		return nil, err
	}
	e.dir = filepath.Dir(path)
	return e, nil
}

// ParseExperiment parses an experiment document (name is used in errors;
// relative paths stay relative to the working directory). It does not
// validate; call Validate once flags have been applied.
func ParseExperiment(data []byte, name string) (*Experiment, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: experiment file %s: %w", ErrExperiment, name, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, fmt.Errorf("%w: experiment file %s is empty", ErrExperiment, name)
	}
	if doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w: experiment file %s line %d: want a mapping of fields (base, aligned, prompts, methods, ...)", ErrExperiment, name, doc.Content[0].Line)
	}
	paths, keys := map[int]string{}, map[int]string{}
	indexPaths(doc.Content[0], "", paths, keys)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	e := &Experiment{source: name}
	if err := dec.Decode(e); err != nil {
		return nil, fmt.Errorf("%w: experiment file %s: %s", ErrExperiment, name, explainYAML(err, paths, keys))
	}
	return e, nil
}

// indexPaths maps every line of the document to the deepest field path
// that starts on it ("methods[2].gamma[1]"), and every line holding a
// mapping key to that key's path.
func indexPaths(n *yaml.Node, path string, out, keys map[int]string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			out[k.Line] = p
			out[v.Line] = p
			keys[k.Line] = p
			indexPaths(v, p, out, keys)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			out[c.Line] = p
			indexPaths(c, p, out, keys)
		}
	}
}

var (
	yamlLine    = regexp.MustCompile(`^line (\d+): (.*)$`)
	yamlUnknown = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
)

// explainYAML rewrites yaml.v3 decode errors to name the field of each
// line and, for an unknown field, the valid ones.
func explainYAML(err error, paths, keys map[int]string) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err.Error()
	}
	var msgs []string
	for _, m := range te.Errors {
		sub := yamlLine.FindStringSubmatch(m)
		if sub == nil {
			msgs = append(msgs, m)
			continue
		}
		line, _ := strconv.Atoi(sub[1])
		field := paths[line]
		if u := yamlUnknown.FindStringSubmatch(sub[2]); u != nil {
			msgs = append(msgs, fmt.Sprintf("line %d: unknown field %q; valid fields here: %s", line, keys[line], strings.Join(fieldsOf(u[2]), ", ")))
			continue
		}
		msgs = append(msgs, fmt.Sprintf("%s (line %d): %s", field, line, strings.ReplaceAll(sub[2], "`", "")))
	}
	return strings.Join(msgs, "; ")
}

// fieldsOf lists the YAML fields of the experiment type named t.
func fieldsOf(t string) []string {
	var v any
	switch {
	case strings.HasSuffix(t, ".Experiment"):
		v = Experiment{}
	case strings.HasSuffix(t, ".Method"):
		v = Method{}
	case strings.HasSuffix(t, ".Sampling"):
		v = Sampling{}
	case strings.HasSuffix(t, ".Embeddings"):
		v = Embeddings{}
	case strings.HasSuffix(t, ".JudgeConfig"):
		v = JudgeConfig{}
	default:
		return nil
	}
	rt := reflect.TypeOf(v)
	var out []string
	for i := range rt.NumField() {
		if tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("yaml"), ","); tag != "" {
			out = append(out, tag)
		}
	}
	return out
}

// path resolves p against the experiment file's folder.
func (e *Experiment) path(p string) string {
	if p == "" || filepath.IsAbs(p) || e.dir == "" {
		return p
	}
	return filepath.Join(e.dir, p)
}

// Resolve makes every relative path of the experiment relative to the
// working directory (it is called by LoadExperiment's users once flags,
// which are relative to the working directory, have been applied).
func (e *Experiment) Resolve() {
	e.Base, e.Aligned, e.Prompts = e.path(e.Base), e.path(e.Aligned), e.path(e.Prompts)
	e.Embeddings.GGUF = e.path(e.Embeddings.GGUF)
	for i := range e.Methods {
		e.Methods[i].Policy = e.path(e.Methods[i].Policy)
	}
	if e.Out != "" {
		e.Out = e.path(e.Out)
	}
	e.dir = ""
}

// SetDefaults fills unset fields with their defaults.
func (e *Experiment) SetDefaults() {
	if e.Samples == 0 {
		e.Samples = DefaultSamples
	}
	if e.MaxTokens == 0 {
		e.MaxTokens = DefaultMaxTokens
	}
	if e.Boundary == "" {
		e.Boundary = "word"
	}
	if e.AlignedPrompt == "" {
		e.AlignedPrompt = "auto"
	}
	if e.Out == "" {
		e.Out = DefaultOut
	}
}

func specErr(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrExperiment, field, fmt.Sprintf(format, args...))
}

// Validate checks every field (after SetDefaults) and the methods' grids;
// errors name the field, e.g. "methods[2].gamma[1]", and the experiment
// file it was read from.
func (e *Experiment) Validate() error {
	err := e.validate()
	if err != nil && e.source != "" {
		return fmt.Errorf("%w (experiment file %s)", err, e.source)
	}
	return err
}

func (e *Experiment) validate() error {
	switch {
	case strings.TrimSpace(e.Base) == "":
		return specErr("base", "required: the base model (a .gguf file)")
	case strings.TrimSpace(e.Aligned) == "":
		return specErr("aligned", "required: the aligned model (a .gguf file)")
	case strings.TrimSpace(e.Prompts) == "":
		return specErr("prompts", "required: a JSONL or CSV file of prompts (id, prompt, optional system)")
	case e.Samples < 1 || e.Samples > MaxSamples:
		return specErr("samples", "%d: want 1..%d", e.Samples, MaxSamples)
	case e.MaxTokens < 1 || e.MaxTokens > MaxTokensLimit:
		return specErr("max_tokens", "%d: want 1..%d", e.MaxTokens, MaxTokensLimit)
	case e.Boundary != "word" && e.Boundary != "token":
		return specErr("boundary", "%q: want word or token", e.Boundary)
	case e.AlignedPrompt != "auto" && e.AlignedPrompt != "chat" && e.AlignedPrompt != "raw":
		return specErr("aligned_prompt", "%q: want auto, chat or raw", e.AlignedPrompt)
	case e.ContextLen < 0:
		return specErr("context_len", "%d: must be >= 0", e.ContextLen)
	case e.Threads < 0:
		return specErr("threads", "%d: must be >= 0", e.Threads)
	case len(e.Methods) == 0:
		return specErr("methods", "required: at least one method, e.g. {router: p-punc, gamma: [0.3, 0.5]}")
	}
	if e.ChatTemplate != "" {
		if _, err := chat.FamilyByName(e.ChatTemplate); err != nil {
			return specErr("chat_template", "%v", err)
		}
	}
	if err := e.Sampling.Params().Validate(); err != nil {
		return specErr("sampling", "%v", err)
	}
	for i, s := range e.Stop {
		if s == "" {
			return specErr(fmt.Sprintf("stop[%d]", i), "empty stop string")
		}
	}
	em := e.Embeddings
	if (em.URL == "") != (em.Model == "") {
		return specErr("embeddings", "an embeddings endpoint needs both url and model")
	}
	if em.URL != "" && em.GGUF != "" {
		return specErr("embeddings", "give url+model or gguf, not both")
	}
	if e.Judge.Enabled() && (e.Judge.URL == "" || e.Judge.Model == "") {
		return specErr("judge", "a judge needs both url and model")
	}
	if e.Judge.Prompt != "" && !strings.Contains(e.Judge.Prompt, "{{response}}") {
		return specErr("judge.prompt", "must contain {{response}}")
	}
	_, err := e.Plan()
	return err
}

// MethodNames returns the method labels in order.
func (e *Experiment) MethodNames() []string {
	out := make([]string, len(e.Methods))
	for i, m := range e.Methods {
		out[i] = m.label()
	}
	return out
}

func (m Method) label() string {
	switch {
	case m.Name != "":
		return m.Name
	case len(m.Temperature) > 0 && strings.EqualFold(m.Router, "base"):
		return "base-temperature"
	case len(m.Temperature) > 0:
		return "aligned-temperature"
	case m.Router != "":
		return strings.ToLower(strings.TrimSpace(m.Router))
	case m.Rule != "":
		return "rule"
	case m.Policy != "":
		return strings.TrimSuffix(filepath.Base(m.Policy), filepath.Ext(m.Policy))
	}
	return ""
}

// validName is what a method label may hold (it appears in CSV files and
// file names).
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$`)

// sortedGrid checks a grid for NaN/Inf and repeats and returns it sorted.
func sortedGrid(field string, g Floats) ([]float64, error) {
	out := make([]float64, len(g))
	copy(out, g)
	for i, v := range out {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, specErr(fmt.Sprintf("%s[%d]", field, i), "%v is not a finite number", v)
		}
	}
	sort.Float64s(out)
	for i := 1; i < len(out); i++ {
		if out[i] == out[i-1] {
			return nil, specErr(field, "%v appears twice", out[i])
		}
	}
	return out, nil
}

// routerInfoText lists the built-in routers for error messages.
func routerNames() string { return strings.Join(route.Names(), ", ") }
