package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/baco-go/baco/eval"
)

func (a *app) evalCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Diversity–quality evaluation: methods × γ sweeps × samples, metrics, frontiers, plots and a report (resumable)",
		Long: `Eval runs the BACo paper's diversity–quality evaluation. Every method
(a built-in router with a γ grid, the Nudging baseline, an expr rule, the
base or aligned model alone, a temperature sweep of one model) generates
samples for every prompt into a run directory; the samples are scored with
lexical (distinct-n, n-gram entropy, self-BLEU, compression ratio, ROUGE-L),
semantic (embedding cosine distance, Vendi score) and quality (aligned-model
log-likelihood, optional judge) measures; every diversity–quality plane gets
one curve per method with its coverage and dominance, a plot (PNG and SVG)
and a section of report.html.

The run directory is resumable: a run stopped at any moment (Ctrl-C, a
crash, SIGKILL) continues where it stopped when the same command is run
again, with nothing lost or duplicated.

Settings come from a YAML experiment file (--experiment; see docs/eval.md
and examples/eval) and flags; a flag given on the command line wins over
the file, the file over BACO_* variables and --config.

Examples:
  bacoctl eval --experiment examples/eval/experiment.yaml
  bacoctl eval --base base.gguf --aligned instruct.gguf --prompts prompts.jsonl \
      --method aligned --method nudging:0.3,0.5,0.7 --method p-punc:0.2,0.4,0.6 \
      --method temperature:0.7,1.0,1.3 --samples 8 --out runs/first`,
		Args: cobra.NoArgs,
		RunE: a.runEval,
	}
	f := cmd.Flags()
	f.String("experiment", "", "YAML experiment file (paths in it are relative to it)")
	f.String("out", "", "run directory (default: the experiment's out, else "+eval.DefaultOut+")")
	f.String("base", "", "base model (a .gguf file)")
	f.String("aligned", "", "aligned model (a .gguf file)")
	f.String("prompts", "", "prompts file: JSONL ({\"id\",\"prompt\",\"system\"}) or CSV (header id,prompt,system)")
	f.StringArray("method", nil, "method (repeatable; replaces the experiment's methods): ROUTER, ROUTER:γ1,γ2,… (nudging too), temperature:T1,T2,… or LABEL=…")
	f.Int("samples", 0, fmt.Sprintf("samples per prompt and point (default %d)", eval.DefaultSamples))
	f.Uint64("seed", 0, "random seed (every method gets the same seed per prompt)")
	f.Int("max-tokens", 0, fmt.Sprintf("maximum tokens per sample (default %d)", eval.DefaultMaxTokens))
	f.Float64("temperature", 1, "sampling temperature of both models in routed methods")
	f.Float64("top-p", 1, "nucleus sampling threshold of routed methods")
	f.String("boundary", "", "where a switch of model may happen: word (default) or token")
	f.Int("context-len", 0, "override the models' context length (0: from the model)")
	f.Int("threads", 0, "engine threads (0: all cores)")
	f.String("embeddings-url", "", "OpenAI-compatible API base for embeddings, e.g. http://localhost:8000/v1")
	f.String("embeddings-model", "", "embedding model name at --embeddings-url")
	f.String("embeddings-key-env", "", "environment variable holding the embeddings API key")
	f.String("embeddings-gguf", "", "offline embedding model (default: the aligned model)")
	f.Bool("no-embeddings", false, "skip the semantic measures")
	f.String("judge-url", "", "OpenAI-compatible API base of a judge model (optional quality measure)")
	f.String("judge-model", "", "judge model name at --judge-url")
	f.String("judge-key-env", "", "environment variable holding the judge API key")
	return cmd
}

// evalExperiment builds the experiment from --experiment and the flags.
func (a *app) evalExperiment(cmd *cobra.Command) (*eval.Experiment, error) {
	v := a.v
	e := &eval.Experiment{}
	if p := v.GetString("experiment"); p != "" {
		var err error
		if e, err = eval.LoadExperiment(p); err != nil {
			return nil, err
		}
		e.Resolve()
	}
	// take reports whether the viper value of key replaces the file's: a
	// flag on the command line always does; otherwise the environment or
	// config file only fills a field the experiment left unset.
	take := func(key string, fileHas bool) bool {
		if cmd.Flags().Changed(key) {
			return true
		}
		return !fileHas && v.IsSet(key)
	}
	strField := func(key string, dst *string) {
		if take(key, *dst != "") {
			*dst = v.GetString(key)
		}
	}
	intField := func(key string, dst *int) {
		if take(key, *dst != 0) {
			*dst = v.GetInt(key)
		}
	}
	strField("base", &e.Base)
	strField("aligned", &e.Aligned)
	strField("prompts", &e.Prompts)
	strField("out", &e.Out)
	strField("boundary", &e.Boundary)
	intField("samples", &e.Samples)
	intField("max-tokens", &e.MaxTokens)
	intField("context-len", &e.ContextLen)
	intField("threads", &e.Threads)
	if take("seed", e.Seed != 0) {
		e.Seed = v.GetUint64("seed")
	}
	if take("temperature", e.Sampling.Temperature != nil) {
		t := v.GetFloat64("temperature")
		e.Sampling.Temperature = &t
	}
	if take("top-p", e.Sampling.TopP != nil) {
		p := v.GetFloat64("top-p")
		e.Sampling.TopP = &p
	}
	if take("method", len(e.Methods) > 0) {
		e.Methods = nil
		for _, s := range v.GetStringSlice("method") {
			m, err := eval.ParseMethod(s)
			if err != nil {
				return nil, err
			}
			e.Methods = append(e.Methods, m)
		}
	}
	em := &e.Embeddings
	strField("embeddings-url", &em.URL)
	strField("embeddings-model", &em.Model)
	strField("embeddings-key-env", &em.APIKeyEnv)
	strField("embeddings-gguf", &em.GGUF)
	if take("no-embeddings", em.Disabled) {
		em.Disabled = v.GetBool("no-embeddings")
	}
	strField("judge-url", &e.Judge.URL)
	strField("judge-model", &e.Judge.Model)
	strField("judge-key-env", &e.Judge.APIKeyEnv)
	e.SetDefaults()
	if err := e.Validate(); err != nil {
		return nil, err
	}
	// The model opener reads the context length and threads from viper.
	v.Set("context-len", e.ContextLen)
	v.Set("threads", e.Threads)
	return e, nil
}

func (a *app) runEval(cmd *cobra.Command, _ []string) error {
	e, err := a.evalExperiment(cmd)
	if err != nil {
		if errors.Is(err, eval.ErrExperiment) {
			return usageError{err}
		}
		return err
	}
	sum, err := eval.Run(cmd.Context(), eval.Options{Experiment: e, Open: a.opener(), OpenLocal: a.localOpener(), Log: a.log, Progress: a.io.Err})
	if err != nil {
		if errors.Is(err, eval.ErrExperiment) {
			return usageError{err}
		}
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("%w; everything written so far is kept in %s: run the same command again to resume", err, e.Out)
		}
		return err
	}
	out := a.io.Out
	fmt.Fprintf(out, "run directory %s: %d points × %d prompts × %d samples = %d rows (%d generated now), %d groups scored now\n",
		sum.Dir, sum.Points, sum.Prompts, sum.Samples, sum.Rows, sum.Generated, sum.Scored)
	fmt.Fprintf(out, "%-24s %10s %10s\n", "method", "coverage", "dominance")
	for _, s := range sum.Results.Summary {
		cov, dom := "–", "–"
		if c, ok := s.Coverage["all"]; ok {
			cov, dom = strconv.FormatFloat(c, 'f', 3, 64), strconv.FormatFloat(s.Dominance["all"], 'f', 3, 64)
		}
		fmt.Fprintf(out, "%-24s %10s %10s\n", s.Method, cov, dom)
	}
	fmt.Fprintf(out, "report: %s\n", strings.TrimSuffix(sum.Dir, "/")+"/"+eval.ReportFile)
	return nil
}
