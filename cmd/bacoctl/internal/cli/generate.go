package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/baco-go/baco/core/chat"
	"github.com/baco-go/baco/core/decode"
	"github.com/baco-go/baco/core/prompt"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/core/sample"
	"github.com/baco-go/baco/pipeline"
)

func (a *app) generateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Generate text with a base and an aligned model collaborating token by token",
		Long: `Generate decodes one response per sample from two models that share a tokenizer.
At every token the router decides whether the base model (diverse) or the
aligned model (high quality) emits it.

The prompt comes from --prompt, --prompt-file, or standard input.

Examples:
  bacoctl generate --base base.gguf --aligned instruct.gguf --router p-punc:0.5 --prompt "Write a story"
  bacoctl generate --base b.gguf --aligned a.gguf --rule 'base.p1 < 0.4 ? "base" : "aligned"' --n 4 --json`,
		Args: cobra.NoArgs,
		RunE: a.runGenerate,
	}
	f := cmd.Flags()
	f.String("base", "", "base model: a .gguf file, a Hugging Face folder or hf:REPO (default: the SmolLM2-135M pair)")
	f.String("aligned", "", "aligned model: a .gguf file, a Hugging Face folder or hf:REPO")
	f.String("prompt", "", "prompt text")
	f.String("prompt-file", "", "read the prompt from this file")
	f.String("system", "", "system message for chat prompts")
	f.String("router", "", "built-in router NAME[:γ] (default p-punc:0.5); see docs/routers.md")
	f.String("rule", "", "expr routing rule; see docs/policies.md")
	f.String("policy", "", "YAML policy file holding a rule and its vars")
	f.StringToString("var", nil, "rule constants, e.g. --var gamma=0.4 (vars.gamma)")
	f.Int("n", 1, "number of samples")
	f.Uint64("seed", 0, "random seed (same seed, same output)")
	f.Int("max-tokens", 128, "maximum tokens per sample (0: until a stop or the context is full)")
	f.Float64("temperature", 1, "sampling temperature of both models (0: greedy)")
	f.Float64("base-temperature", -1, "base model temperature (default: --temperature)")
	f.Float64("aligned-temperature", -1, "aligned model temperature (default: --temperature)")
	f.Float64("top-p", 1, "nucleus sampling threshold")
	f.Int("top-k", 0, "top-k truncation (0: off)")
	f.Float64("min-p", 0, "min-p truncation (0: off)")
	f.StringArray("stop", nil, "stop string (repeatable)")
	f.Bool("chat", false, "require the aligned model's chat template (default: use it when the model has one)")
	f.Bool("raw", false, "plain prompts for both models (no chat template)")
	f.String("chat-template", "", "force a chat template family: "+strings.Join(chat.Families(), ", "))
	f.String("boundary", "word", "where a switch of model may happen: word or token")
	f.Bool("strict-entropy", false, "refuse an entropy-reading router over a backend that only estimates entropy from top-k")
	f.Int("context-len", 0, "override the models' context length (0: from the model)")
	f.Int("threads", 0, "engine threads (0: all cores)")
	f.Bool("json", false, "print one JSON object per sample per line, with the per-token trace")
	return cmd
}

// generateOptions are the resolved settings of one generate run.
type generateOptions struct {
	spec     pipeline.Spec
	req      decode.Request
	input    prompt.Input
	baseMode prompt.Spec
	alMode   prompt.Spec
	json     bool
}

func (a *app) generateOptions(cmd *cobra.Command) (*generateOptions, error) {
	v := a.v
	o := &generateOptions{json: v.GetBool("json")}
	vars := map[string]any{}
	for k, s := range v.GetStringMapString("var") {
		vars[k] = parseVar(s)
	}
	for k, x := range v.GetStringMap("vars") {
		vars[k] = x
	}
	o.spec = pipeline.Spec{
		Base: v.GetString("base"), Aligned: v.GetString("aligned"), Boundary: v.GetString("boundary"),
		StrictEntropy: v.GetBool("strict-entropy"),
		Router:        pipeline.RouterSpec{Name: v.GetString("router"), Rule: v.GetString("rule"), PolicyFile: v.GetString("policy"), Vars: vars},
	}
	if o.spec.Boundary != "word" && o.spec.Boundary != "token" {
		return nil, usagef("--boundary %q: want word or token", o.spec.Boundary)
	}
	n := v.GetInt("n")
	if n < 1 || n > 1024 {
		return nil, usagef("--n %d: want 1..1024", n)
	}
	maxTok := v.GetInt("max-tokens")
	if maxTok < 0 {
		return nil, usagef("--max-tokens %d: must be >= 0", maxTok)
	}
	temp := v.GetFloat64("temperature")
	bt, at := v.GetFloat64("base-temperature"), v.GetFloat64("aligned-temperature")
	if bt < 0 {
		bt = temp
	}
	if at < 0 {
		at = temp
	}
	base := sample.Params{Temperature: bt, TopP: v.GetFloat64("top-p"), TopK: v.GetInt("top-k"), MinP: v.GetFloat64("min-p")}
	aligned := base
	aligned.Temperature = at
	for name, p := range map[string]sample.Params{"base": base, "aligned": aligned} {
		if err := p.Validate(); err != nil {
			return nil, usagef("%s sampling: %w", name, err)
		}
	}
	o.req = decode.Request{N: n, Seed: v.GetUint64("seed"), MaxTokens: maxTok, Stop: v.GetStringSlice("stop"),
		BaseSampling: base, AlignedSampling: aligned}
	text, err := a.promptText(cmd)
	if err != nil {
		return nil, err
	}
	var msgs []chat.Message
	if sys := v.GetString("system"); sys != "" {
		msgs = append(msgs, chat.Message{Role: "system", Content: sys})
	}
	o.input = prompt.Input{Messages: append(msgs, chat.Message{Role: "user", Content: text})}
	o.baseMode = prompt.Spec{Mode: prompt.Raw}
	o.alMode = prompt.Spec{Mode: prompt.Auto, Template: v.GetString("chat-template")}
	switch {
	case v.GetBool("chat") && v.GetBool("raw"):
		return nil, usagef("give --chat or --raw, not both")
	case v.GetBool("chat"):
		o.alMode.Mode = prompt.Chat
	case v.GetBool("raw"):
		o.alMode = prompt.Spec{Mode: prompt.Raw}
	}
	r, err := a.buildRouter(cmd.Context(), o.spec.Router)
	if err != nil {
		return nil, err
	}
	o.spec.Built = r
	return o, nil
}

// parseVar reads a --var value as a number or bool when it is one.
func parseVar(s string) any {
	if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
		return f
	}
	if b, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil {
		return b
	}
	return s
}

func (a *app) promptText(cmd *cobra.Command) (string, error) {
	v := a.v
	p, file := v.GetString("prompt"), v.GetString("prompt-file")
	switch {
	case p != "" && file != "":
		return "", usagef("give --prompt or --prompt-file, not both")
	case p != "":
		return p, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", usagef("--prompt-file: %w", err)
		}
		return string(b), nil
	}
	if f, ok := a.io.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return "", usagef("no prompt: give --prompt, --prompt-file or pipe the prompt on standard input")
	}
	s, err := readAllString(a.io.In)
	if err != nil {
		return "", fmt.Errorf("read the prompt from standard input: %w", err)
	}
	if strings.TrimSpace(s) == "" {
		return "", usagef("no prompt: give --prompt, --prompt-file or pipe the prompt on standard input")
	}
	return strings.TrimRight(s, "\n"), nil
}

func (a *app) runGenerate(cmd *cobra.Command, _ []string) error {
	ctx := cmd.Context()
	o, err := a.generateOptions(cmd)
	if err != nil {
		return err
	}
	if o.spec.Base == "" && o.spec.Aligned == "" {
		b, al, err := a.defaultModels(ctx)
		if err != nil {
			return err
		}
		o.spec.Base, o.spec.Aligned = b, al
	}
	p, err := pipeline.Open(ctx, o.spec, a.opener(), a.log)
	if err != nil {
		return err
	}
	defer p.Close()
	bi, ai := p.Decoder.BaseInfo(), p.Decoder.AlignedInfo()
	o.req.BasePrompt, err = prompt.Build(ctx, p.Base, bi, o.baseMode, o.input)
	if err != nil {
		return err
	}
	o.req.AlignedPrompt, err = prompt.Build(ctx, p.Aligned, ai, o.alMode, o.input)
	if err != nil {
		return usageError{err}
	}
	out := a.io.Out
	color := isTerminal(out) && os.Getenv("NO_COLOR") == ""
	stream := !o.json && o.req.N == 1
	if stream {
		if color {
			fmt.Fprintln(a.io.Err, legend())
		}
		o.req.OnToken = func(ev decode.Event) { writeToken(out, ev, color) }
	}
	start := time.Now()
	res, err := p.Decoder.Generate(ctx, o.req)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if o.json {
		enc := json.NewEncoder(out)
		for i := range res.Samples {
			if err := enc.Encode(jsonSample(&res.Samples[i], elapsed)); err != nil {
				return err
			}
		}
		return nil
	}
	if !stream {
		if color {
			fmt.Fprintln(a.io.Err, legend())
		}
		for i := range res.Samples {
			s := &res.Samples[i]
			fmt.Fprintf(out, "--- sample %d ---\n", s.Index)
			for _, ev := range s.Trace {
				writeToken(out, ev, color)
			}
			fmt.Fprintln(out)
		}
	} else {
		fmt.Fprintln(out)
	}
	printSummary(a.io.Err, res, elapsed, p.Decoder.Router().Name())
	return nil
}

// writeToken prints one token, coloured by source; control tokens such as
// </s> are not printed.
func writeToken(w io.Writer, ev decode.Event, color bool) {
	text := ev.Text
	if ev.Special {
		return
	}
	if !color {
		io.WriteString(w, text)
		return
	}
	fmt.Fprintf(w, "%s%s\x1b[0m", sourceColor(ev.Source), text)
}

func sourceColor(s route.Source) string {
	switch s {
	case route.Base:
		return "\x1b[36m" // cyan
	case route.Mixed:
		return "\x1b[35m" // magenta
	}
	return "\x1b[33m" // yellow: aligned
}

func legend() string {
	return fmt.Sprintf("legend: %sbase\x1b[0m %saligned\x1b[0m %smixed\x1b[0m",
		sourceColor(route.Base), sourceColor(route.Aligned), sourceColor(route.Mixed))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func printSummary(w io.Writer, res *decode.Result, elapsed time.Duration, router string) {
	var toks, base int
	for _, s := range res.Samples {
		toks += len(s.Trace)
		base += s.BaseTokens
	}
	share := 0.0
	if toks > 0 {
		share = float64(base) / float64(toks)
	}
	fmt.Fprintf(w, "router %s: %d samples, %d tokens, %.1f%% from base, %.1f tok/s\n",
		router, len(res.Samples), toks, 100*share, float64(toks)/elapsed.Seconds())
}

// jsonToken is one token of --json output.
type jsonToken struct {
	Pos     int            `json:"pos"`
	ID      int32          `json:"id"`
	Text    string         `json:"text"`
	Source  string         `json:"source"`
	Weight  float64        `json:"weight"`
	LogProb float64        `json:"logprob"`
	Gated   bool           `json:"gated,omitempty"`
	Base    *decode.Signal `json:"base,omitempty"`
	Aligned *decode.Signal `json:"aligned,omitempty"`
}

// jsonStats are a sample's statistics in --json output.
type jsonStats struct {
	Tokens       int     `json:"tokens"`
	BaseTokens   int     `json:"base_tokens"`
	BaseShare    float64 `json:"base_share"`
	Finish       string  `json:"finish"`
	BaseSteps    int     `json:"base_steps"`
	AlignedSteps int     `json:"aligned_steps"`
}

// jsonSampleOut is one line of --json output.
type jsonSampleOut struct {
	Sample int         `json:"sample"`
	Text   string      `json:"text"`
	Tokens []jsonToken `json:"tokens"`
	Stats  jsonStats   `json:"stats"`
}

func jsonSample(s *decode.Sample, _ time.Duration) jsonSampleOut {
	out := jsonSampleOut{Sample: s.Index, Text: s.Text, Tokens: make([]jsonToken, 0, len(s.Trace)),
		Stats: jsonStats{Tokens: len(s.Trace), BaseTokens: s.BaseTokens, BaseShare: s.BaseShare(), Finish: s.Finish,
			BaseSteps: s.BaseSteps, AlignedSteps: s.AlignedSteps}}
	for _, ev := range s.Trace {
		out.Tokens = append(out.Tokens, jsonToken{Pos: ev.Pos, ID: ev.ID, Text: ev.Text, Source: ev.Source.String(),
			Weight: ev.Weight, LogProb: ev.LogProb, Gated: ev.Gated, Base: ev.Base, Aligned: ev.Aligned})
	}
	return out
}
