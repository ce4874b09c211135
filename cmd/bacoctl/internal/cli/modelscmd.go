package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/engine"
	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/hf"
	"github.com/baco-go/baco/hub"
)

// defaultRetries is how often an interrupted download is resumed within
// one run (--retries, BACO_RETRIES).
const defaultRetries = 3

func (a *app) modelsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models",
		Short: "Pull models from the Hugging Face hub, list and remove cached models",
		Long: `Models manages the local model cache (default: the user cache folder's
baco/models, e.g. ~/.cache/baco/models; --models-dir or BACO_MODELS_DIR).

HF_ENDPOINT selects the hub (or a mirror), HF_TOKEN authorises gated and
private repositories, and HF_HUB_OFFLINE=1 forbids network access.

A model reference is OWNER/NAME[@REVISION] for a whole model (config.json,
tokenizer and safetensors weights), or OWNER/NAME[@REVISION]/FILE for one
file such as a GGUF. Elsewhere (--base, --aligned) write hf:OWNER/NAME.`,
	}
	cmd.PersistentFlags().String("models-dir", "", "model cache folder (also BACO_MODELS_DIR)")
	cmd.AddCommand(a.modelsPullCmd(), a.modelsListCmd(), a.modelsRmCmd())
	return cmd
}

func (a *app) modelsPullCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pull MODEL...",
		Short: "Download models from the Hugging Face hub into the cache (resumable, checksum-verified)",
		Example: `  bacoctl models pull HuggingFaceTB/SmolLM2-135M HuggingFaceTB/SmolLM2-135M-Instruct
  bacoctl models pull bartowski/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct-Q8_0.gguf`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			refs := make([]hub.Ref, len(args))
			for i, s := range args {
				r, err := hub.ParseRef(s)
				if err != nil {
					return usageError{err}
				}
				if rev := a.v.GetString("revision"); rev != "" {
					r.Revision = rev
					if err := r.Validate(); err != nil {
						return usagef("--revision %q: %w", rev, err)
					}
				}
				refs[i] = r
			}
			c, err := a.hubClient()
			if err != nil {
				return err
			}
			for _, r := range refs {
				p, err := c.Pull(cmd.Context(), r)
				if err != nil {
					return pullError(c, r, err)
				}
				fmt.Fprintln(a.io.Out, p)
			}
			return nil
		},
	}
	cmd.Flags().String("revision", "", "branch, tag or commit to pull (default main)")
	cmd.Flags().Int("retries", defaultRetries, "resume an interrupted download this many times")
	return cmd
}

// pullError adds to an offline error what the user can do.
func pullError(c *hub.Client, r hub.Ref, err error) error {
	if errors.Is(err, hub.ErrOffline) {
		return fmt.Errorf("%w\nthe hub at %s cannot be reached from here: pull %s on a machine that can reach it and copy %s to the same place here, or set HF_ENDPOINT to a reachable mirror",
			err, c.Endpoint(), r, c.Dir(r))
	}
	return err
}

func (a *app) modelsListCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the models in the cache",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.hubClient()
			if err != nil {
				return err
			}
			models, err := c.List()
			if err != nil {
				return err
			}
			if a.v.GetBool("json") {
				type file struct {
					Path   string `json:"path"`
					Size   int64  `json:"size"`
					SHA256 string `json:"sha256,omitempty"`
				}
				type entry struct {
					Model        string `json:"model"`
					Path         string `json:"path"`
					Commit       string `json:"commit,omitempty"`
					Complete     bool   `json:"complete"`
					Bytes        int64  `json:"bytes"`
					PartialBytes int64  `json:"partial_bytes"`
					Files        []file `json:"files"`
				}
				out := make([]entry, 0, len(models))
				for _, m := range models {
					e := entry{Model: m.Ref.String(), Path: m.Dir, Commit: m.Commit, Complete: m.Complete, Bytes: m.Bytes, PartialBytes: m.PartialBytes, Files: []file{}}
					for _, f := range m.Files {
						e.Files = append(e.Files, file{f.Path, f.Size, f.SHA256})
					}
					out = append(out, e)
				}
				enc := json.NewEncoder(a.io.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			if len(models) == 0 {
				fmt.Fprintf(a.io.Err, "no models in %s\n", c.CacheDir())
				return nil
			}
			tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "MODEL\tSIZE\tSTATUS\tPATH")
			for _, m := range models {
				status := "complete"
				switch {
				case m.Complete:
				case m.PartialBytes > 0:
					status = fmt.Sprintf("incomplete (%s downloaded; pull again to resume)", humanBytes(m.Bytes+m.PartialBytes))
				case len(m.Files) > 0:
					names := make([]string, len(m.Files))
					for i, f := range m.Files {
						names[i] = f.Path
					}
					status = "files: " + strings.Join(names, ", ")
				default:
					status = "empty"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Ref, humanBytes(m.Bytes), status, m.Dir)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}

func (a *app) modelsRmCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "rm MODEL...",
		Aliases: []string{"remove"},
		Short:   "Remove models (or single files of them) from the cache",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.hubClient()
			if err != nil {
				return err
			}
			for _, s := range args {
				r, err := hub.ParseRef(s)
				if err != nil {
					return usageError{err}
				}
				if err := c.Remove(cmd.Context(), r); err != nil {
					return err
				}
				fmt.Fprintf(a.io.Err, "removed %s\n", r)
			}
			return nil
		},
	}
}

// humanBytes formats a size for people.
func humanBytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}

// hubClient returns this invocation's hub client: HF_ENDPOINT, HF_TOKEN
// and HF_HUB_OFFLINE from the environment; the cache from --models-dir,
// BACO_MODELS_DIR or the config key models-dir; progress on standard
// error; --retries (BACO_RETRIES) resumes of an interrupted download.
func (a *app) hubClient() (*hub.Client, error) {
	o := hub.OptionsFromEnv(os.Getenv)
	if d := a.v.GetString("models-dir"); d != "" {
		o.CacheDir = d
	}
	o.Progress = a.io.Err
	o.Logger = a.log
	o.Retries, o.RetryDelay = defaultRetries, time.Second
	if a.v.IsSet("retries") {
		o.Retries = a.v.GetInt("retries")
	}
	c, err := hub.New(o)
	if err != nil {
		return nil, usageError{err}
	}
	return c, nil
}

// resolveModel turns a model reference into a path engine.LoadPath loads:
// an existing .gguf file or Hugging Face model folder as it is, or
// hf:OWNER/NAME[@REV][/FILE] from the model cache, pulled first (with a
// progress bar on standard error) when the cache does not hold it. Without
// network the error says what to pull.
func (a *app) resolveModel(ctx context.Context, ref string) (string, error) {
	if !hub.IsHubRef(ref) {
		if _, err := os.Stat(ref); err != nil {
			if r, perr := hub.ParseRef(ref); perr == nil && r.File == "" && !strings.HasSuffix(strings.ToLower(ref), ".gguf") {
				return "", usagef("model %q: no such file or folder (for the Hugging Face model write hf:%s)", ref, r.Repo)
			}
			return "", usagef("model %q: %w", ref, err)
		}
		return ref, nil
	}
	if _, err := hub.ParseRef(ref); err != nil {
		return "", usageError{err}
	}
	c, err := a.hubClient()
	if err != nil {
		return "", err
	}
	return c.Resolve(ctx, ref)
}

// engineOptions are the engine settings of this invocation (--context-len,
// --threads, the logger).
func (a *app) engineOptions() []engine.Option {
	var opts []engine.Option
	if n := a.v.GetInt("context-len"); n > 0 {
		opts = append(opts, engine.WithContextLen(n))
	}
	if n := a.v.GetInt("threads"); n > 0 {
		opts = append(opts, engine.WithThreads(n))
	}
	if a.log != nil {
		opts = append(opts, engine.WithLogger(a.log))
	}
	return opts
}

// loadModel resolves ref (see resolveModel) and loads it into the embedded
// engine: a GGUF file, or a Hugging Face model folder (safetensors). Extra
// options come after this invocation's.
func (a *app) loadModel(ctx context.Context, ref string, extra ...engine.Option) (backend.Backend, error) {
	p, err := a.resolveModel(ctx, ref)
	if err != nil {
		return nil, err
	}
	e, err := engine.LoadPath(p, append(a.engineOptions(), extra...)...)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", ref, err)
	}
	return e, nil
}

// openModelFile resolves ref and opens its weights and metadata as a GGUF
// file (a Hugging Face folder through package hf), for commands that read
// the tokenizer or metadata only (tokenize, inspect). Call closeFn when
// done.
func (a *app) openModelFile(ctx context.Context, ref string) (f *gguf.File, closeFn func() error, err error) {
	p, err := a.resolveModel(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	if hf.IsModelDir(p) {
		m, err := hf.Open(p)
		if err != nil {
			return nil, nil, usageError{err}
		}
		return m.File(), m.Close, nil
	}
	f, err = gguf.Open(p)
	if err != nil {
		return nil, nil, usageError{err}
	}
	return f, f.Close, nil
}

// defaultModels returns local paths of the default base/aligned pair
// (hub.DefaultPair), pulling them on first use with a progress bar. When
// they are not cached and the hub cannot be reached, the error says which
// command pulls them and how to pass local models instead.
func (a *app) defaultModels(ctx context.Context) (base, aligned string, err error) {
	c, err := a.hubClient()
	if err != nil {
		return "", "", err
	}
	refs := []hub.Ref{{Repo: hub.DefaultBase}, {Repo: hub.DefaultAligned}}
	var paths [2]string
	announced := false
	for i := range refs {
		if p, ok := c.Cached(refs[i]); ok {
			paths[i] = p
			continue
		}
		if !announced {
			announced = true
			fmt.Fprintf(a.io.Err, "no models given: using the default pair %s (base) and %s (aligned)\n", hub.DefaultBase, hub.DefaultAligned)
		}
		p, err := c.Pull(ctx, refs[i])
		if err != nil {
			if errors.Is(err, hub.ErrOffline) {
				return "", "", fmt.Errorf("no models given, and the default pair %s (base) and %s (aligned) is not in the model cache (%s) "+
					"and cannot be downloaded from %s.\n"+
					"Either pull it where the hub is reachable:\n  bacoctl models pull %s %s\n"+
					"(then copy %s here, or set HF_ENDPOINT to a reachable mirror), "+
					"or pass two local models that share a tokenizer:\n  --base BASE.gguf --aligned ALIGNED.gguf   (a Hugging Face model folder works too)\n"+
					"cause: %w",
					hub.DefaultBase, hub.DefaultAligned, c.CacheDir(), c.Endpoint(), hub.DefaultBase, hub.DefaultAligned, c.CacheDir(), err)
			}
			return "", "", err
		}
		paths[i] = p
	}
	return paths[0], paths[1], nil
}
