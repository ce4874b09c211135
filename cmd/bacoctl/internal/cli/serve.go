package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/cobra"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/backend/prefixcache"
	"github.com/baco-go/baco/core/chat"
	"github.com/baco-go/baco/core/prompt"
	"github.com/baco-go/baco/pipeline"
	"github.com/baco-go/baco/server"
)

func (a *app) serveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve BACo pipelines over an OpenAI-compatible HTTP API",
		Long: `Serve exposes BACo pipelines as an OpenAI-compatible server:
/v1/completions, /v1/chat/completions (SSE streaming, logprobs), /v1/models,
/healthz and /metrics, plus llama.cpp's /tokenize, /detokenize and
/completion for single-model pipelines. See docs/serve.md.

Pipelines come from the config file's "pipelines" list and from --base and
--aligned (served as --name). Every model file they use, and every --model,
is also served alone under its file name without ".gguf" (base = aligned =
that model, router "aligned").

Examples:
  bacoctl serve --base base.gguf --aligned instruct.gguf --router p-punc:0.5
  bacoctl serve --config deploy.yaml --addr 127.0.0.1:9000 --api-key "$KEY"`,
		Args: cobra.NoArgs,
		RunE: a.runServe,
	}
	f := cmd.Flags()
	f.String("addr", server.DefaultAddr, "listen address (loopback by default; port 0 picks a free port)")
	f.StringArray("api-key", nil, "accepted Bearer API key (repeatable; none: no authentication)")
	f.Int("queue-len", 64, "requests waiting per pipeline before 429")
	f.Int("max-seqs", 16, "sequences stepped together per pipeline")
	f.Int("prefix-cache", 16, "finished sequences kept per model so a request resending their tokens skips the prefill (0: off)")
	f.Duration("timeout", 10*time.Minute, "per-request timeout")
	f.Duration("shutdown-timeout", 30*time.Second, "how long a shutdown waits for requests in flight")
	f.Int("max-n", 16, "largest n (choices per prompt) a request may ask for")
	f.Bool("access-log", true, "log one JSON line per request on standard error")
	f.String("name", "baco", "model id of the --base/--aligned pipeline")
	f.String("base", "", "base model of a pipeline (a .gguf file)")
	f.String("aligned", "", "aligned model of a pipeline (a .gguf file)")
	f.StringArray("model", nil, "also serve this model alone (repeatable)")
	f.String("router", "", "built-in router NAME[:γ] of the --base/--aligned pipeline (default p-punc:0.5)")
	f.String("rule", "", "expr routing rule of the --base/--aligned pipeline")
	f.String("policy", "", "YAML policy file of the --base/--aligned pipeline")
	f.StringToString("var", nil, "rule constants, e.g. --var gamma=0.4")
	f.String("boundary", "word", "where a switch of model may happen: word or token")
	f.String("chat", "auto", "aligned model's chat prompt: auto (its template if it has one), chat or raw")
	f.String("chat-template", "", "force a chat template family: "+strings.Join(chat.Families(), ", "))
	f.Int("context-len", 0, "override the models' context length (0: from the model)")
	f.Int("threads", 0, "engine threads (0: all cores)")
	return cmd
}

// pipelineConfig is one entry of the config file's "pipelines" list.
type pipelineConfig struct {
	Name         string         `mapstructure:"name"`
	Base         string         `mapstructure:"base"`
	Aligned      string         `mapstructure:"aligned"`
	Router       string         `mapstructure:"router"`
	Rule         string         `mapstructure:"rule"`
	Policy       string         `mapstructure:"policy"`
	Vars         map[string]any `mapstructure:"vars"`
	Boundary     string         `mapstructure:"boundary"`
	Chat         string         `mapstructure:"chat"`
	ChatTemplate string         `mapstructure:"chat-template"`
	// BasePrompt is "raw" (default: the messages' text) or "chat" (the
	// base model gets the same chat prompt as the aligned model).
	BasePrompt string `mapstructure:"base-prompt"`
}

// serveSetting reads a serve option: the flag when given, else
// serve.<name> from the config file or BACO_SERVE_<NAME>, else the flag's
// value (BACO_<NAME> or its default).
func (a *app) serveSetting(cmd *cobra.Command, name string) any {
	if !cmd.Flags().Changed(name) && a.v.IsSet("serve."+name) {
		return a.v.Get("serve." + name)
	}
	return a.v.Get(name)
}

func (a *app) serveString(cmd *cobra.Command, name string) string {
	return fmt.Sprint(a.serveSetting(cmd, name))
}

func (a *app) serveInt(cmd *cobra.Command, name string) (int, error) {
	var n int
	if err := mapstructure.WeakDecode(a.serveSetting(cmd, name), &n); err != nil {
		return 0, usagef("serve %s: %v", name, err)
	}
	return n, nil
}

func (a *app) serveDuration(cmd *cobra.Command, name string) (time.Duration, error) {
	switch x := a.serveSetting(cmd, name).(type) {
	case time.Duration:
		return x, nil
	case string:
		d, err := time.ParseDuration(x)
		if err != nil {
			return 0, usagef("serve %s %q: want a duration such as 30s or 5m", name, x)
		}
		return d, nil
	default:
		return 0, usagef("serve %s: want a duration such as 30s or 5m, got %v", name, x)
	}
}

func (a *app) serveStrings(cmd *cobra.Command, name string) []string {
	var out []string
	if err := mapstructure.WeakDecode(a.serveSetting(cmd, name), &out); err != nil {
		return nil
	}
	return out
}

// serveConfig resolves the server settings.
func (a *app) serveConfig(cmd *cobra.Command) (server.Config, string, error) {
	var cfg server.Config
	var err error
	addr := a.serveString(cmd, "addr")
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return cfg, "", usagef("--addr %q: want host:port, e.g. %s", addr, server.DefaultAddr)
	}
	cfg.APIKeys = a.serveStrings(cmd, "api-key")
	for _, k := range cfg.APIKeys {
		if strings.TrimSpace(k) == "" {
			return cfg, "", usagef("--api-key: an empty key would let anyone in")
		}
	}
	if cfg.QueueLen, err = a.serveInt(cmd, "queue-len"); err != nil {
		return cfg, "", err
	}
	if cfg.MaxSeqs, err = a.serveInt(cmd, "max-seqs"); err != nil {
		return cfg, "", err
	}
	if cfg.Limits.MaxN, err = a.serveInt(cmd, "max-n"); err != nil {
		return cfg, "", err
	}
	for _, c := range []struct {
		name string
		v    int
	}{{"queue-len", cfg.QueueLen}, {"max-seqs", cfg.MaxSeqs}, {"max-n", cfg.Limits.MaxN}} {
		if c.v < 1 {
			return cfg, "", usagef("--%s %d: want at least 1", c.name, c.v)
		}
	}
	if cfg.RequestTimeout, err = a.serveDuration(cmd, "timeout"); err != nil {
		return cfg, "", err
	}
	if cfg.ShutdownTimeout, err = a.serveDuration(cmd, "shutdown-timeout"); err != nil {
		return cfg, "", err
	}
	if cfg.RequestTimeout <= 0 || cfg.ShutdownTimeout <= 0 {
		return cfg, "", usagef("--timeout and --shutdown-timeout must be positive")
	}
	cfg.Logger = a.log
	cfg.AccessLogger = slog.New(slog.DiscardHandler)
	var logOn bool
	if err := mapstructure.WeakDecode(a.serveSetting(cmd, "access-log"), &logOn); err != nil {
		return cfg, "", usagef("serve access-log: %v", err)
	}
	if logOn {
		cfg.AccessLogger = slog.New(slog.NewJSONHandler(a.io.Err, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return cfg, addr, nil
}

// servePipelines collects the pipelines to serve: the config file's list
// and the --base/--aligned pipeline.
func (a *app) servePipelines(cmd *cobra.Command) ([]pipelineConfig, []string, error) {
	var pcs []pipelineConfig
	if a.v.IsSet("pipelines") {
		err := a.v.UnmarshalKey("pipelines", &pcs, func(c *mapstructure.DecoderConfig) { c.ErrorUnused = true })
		if err != nil {
			return nil, nil, usagef("config pipelines: %v", err)
		}
	}
	v := a.v
	if base, al := v.GetString("base"), v.GetString("aligned"); base != "" || al != "" {
		vars := map[string]any{}
		for k, s := range v.GetStringMapString("var") {
			vars[k] = parseVar(s)
		}
		for k, x := range v.GetStringMap("vars") {
			vars[k] = x
		}
		pcs = append(pcs, pipelineConfig{Name: v.GetString("name"), Base: base, Aligned: al, Router: v.GetString("router"),
			Rule: v.GetString("rule"), Policy: v.GetString("policy"), Vars: vars, Boundary: v.GetString("boundary"),
			Chat: v.GetString("chat"), ChatTemplate: v.GetString("chat-template")})
	}
	singles := v.GetStringSlice("model")
	if len(pcs) == 0 && len(singles) == 0 {
		return nil, nil, usagef("nothing to serve: give --base and --aligned, --model, or a config file with a pipelines list")
	}
	for i := range pcs {
		pc := &pcs[i]
		switch {
		case strings.TrimSpace(pc.Name) == "":
			return nil, nil, usagef("pipeline %d: name is required", i)
		case pc.Base == "" || pc.Aligned == "":
			return nil, nil, usagef("pipeline %s: both base and aligned are required", pc.Name)
		}
		if pc.Boundary == "" {
			pc.Boundary = "word"
		}
		if _, err := chatMode(pc.Chat); err != nil {
			return nil, nil, usagef("pipeline %s: %v", pc.Name, err)
		}
		if pc.BasePrompt != "" && pc.BasePrompt != "raw" && pc.BasePrompt != "chat" {
			return nil, nil, usagef("pipeline %s: base-prompt %q: want raw or chat", pc.Name, pc.BasePrompt)
		}
		// Report a bad router before loading any weights.
		if _, err := pipeline.BuildRouter(pc.routerSpec()); err != nil {
			return nil, nil, fmt.Errorf("pipeline %s: %w", pc.Name, err)
		}
	}
	return pcs, singles, nil
}

func (pc *pipelineConfig) routerSpec() pipeline.RouterSpec {
	return pipeline.RouterSpec{Name: pc.Router, Rule: pc.Rule, PolicyFile: pc.Policy, Vars: pc.Vars}
}

func chatMode(s string) (prompt.Mode, error) {
	switch s {
	case "", "auto":
		return prompt.Auto, nil
	case "chat":
		return prompt.Chat, nil
	case "raw":
		return prompt.Raw, nil
	}
	return 0, fmt.Errorf("chat %q: want auto, chat or raw", s)
}

// sharedBackend lends one loaded model to several pipelines; the command
// closes the real backend once.
type sharedBackend struct{ backend.Backend }

func (sharedBackend) Close() error { return nil }

// modelCache loads each model file once.
type modelCache struct {
	open   pipeline.Opener
	keep   int // finished sequences kept per model for prefix reuse
	mu     sync.Mutex
	loaded map[string]backend.Backend
	order  []string
}

func (c *modelCache) opener() pipeline.Opener {
	return func(ctx context.Context, ref string) (backend.Backend, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if be, ok := c.loaded[ref]; ok {
			return sharedBackend{be}, nil
		}
		be, err := c.open(ctx, ref)
		if err != nil {
			return nil, err
		}
		// Requests that resend a previous request's tokens (a client using
		// this server as a remote backend, a shared system prompt) fork the
		// kept sequence instead of prefilling again.
		if c.keep > 0 {
			be = prefixcache.New(be, c.keep)
		}
		c.loaded[ref] = be
		c.order = append(c.order, ref)
		return sharedBackend{be}, nil
	}
}

// close closes every loaded model once; later calls do nothing.
func (c *modelCache) close() error {
	var errs []error
	for _, ref := range c.order {
		errs = append(errs, c.loaded[ref].Close())
	}
	c.order, c.loaded = nil, map[string]backend.Backend{}
	return errors.Join(errs...)
}

// singleID is a model file's id when served alone.
func singleID(ref string) string {
	base := filepath.Base(ref)
	if ext := filepath.Ext(base); strings.EqualFold(ext, ".gguf") {
		base = base[:len(base)-len(ext)]
	}
	return base
}

func (a *app) runServe(cmd *cobra.Command, _ []string) error {
	ctx := cmd.Context()
	cfg, addr, err := a.serveConfig(cmd)
	if err != nil {
		return err
	}
	pcs, singles, err := a.servePipelines(cmd)
	if err != nil {
		return err
	}
	keep, err := a.serveInt(cmd, "prefix-cache")
	if err != nil {
		return err
	}
	if keep < 0 {
		return usagef("--prefix-cache %d: want 0 (off) or more", keep)
	}
	cache := &modelCache{open: a.opener(), keep: keep, loaded: map[string]backend.Backend{}}
	defer cache.close()
	var models []*server.Model
	ids := map[string]string{} // id → what it names
	add := func(m *server.Model, what string) error {
		if prev, ok := ids[m.ID]; ok {
			return usagef("model id %q names both %s and %s: rename one", m.ID, prev, what)
		}
		ids[m.ID] = what
		models = append(models, m)
		return nil
	}
	for _, pc := range pcs {
		p, err := pipeline.Open(ctx, pipeline.Spec{Base: pc.Base, Aligned: pc.Aligned, Router: pc.routerSpec(), Boundary: pc.Boundary},
			cache.opener(), a.log)
		if err != nil {
			return fmt.Errorf("pipeline %s: %w", pc.Name, err)
		}
		mode, _ := chatMode(pc.Chat)
		al := prompt.Spec{Mode: mode, Template: pc.ChatTemplate}
		base := prompt.Spec{Mode: prompt.Raw}
		if pc.BasePrompt == "chat" {
			base = al
		}
		m := &server.Model{ID: pc.Name, Decoder: p.Decoder, Base: p.Base, Aligned: p.Aligned, Router: pc.routerSpec(),
			BasePrompt: base, AlignedPrompt: al}
		if err := add(m, "pipeline "+pc.Name); err != nil {
			return err
		}
	}
	// Every model file once more, alone.
	refs := append([]string(nil), cache.order...)
	for _, s := range singles {
		if !contains(refs, s) {
			refs = append(refs, s)
		}
	}
	template := a.v.GetString("chat-template")
	for _, ref := range refs {
		rs := pipeline.RouterSpec{Name: "aligned"}
		p, err := pipeline.Open(ctx, pipeline.Spec{Base: ref, Aligned: ref, Router: rs, Boundary: "token"}, cache.opener(), a.log)
		if err != nil {
			return fmt.Errorf("model %s: %w", ref, err)
		}
		spec := prompt.Spec{Mode: prompt.Auto, Template: template}
		m := &server.Model{ID: singleID(ref), Decoder: p.Decoder, Base: p.Base, Aligned: p.Aligned, Router: rs,
			BasePrompt: spec, AlignedPrompt: spec, Single: true}
		if err := add(m, "model file "+ref); err != nil {
			return err
		}
	}
	srv, err := server.New(cfg, models)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	if host, _, _ := net.SplitHostPort(addr); len(cfg.APIKeys) == 0 && !isLoopback(host) {
		a.log.Warn("serving beyond loopback without API keys: anyone who can reach the port can use it", "addr", addr)
	}
	names := make([]string, len(models))
	for i, m := range models {
		names[i] = m.ID
	}
	fmt.Fprintf(a.io.Err, "bacoctl: serving %s on http://%s\n", strings.Join(names, ", "), ln.Addr())
	err = srv.Serve(ctx, ln)
	// Stop the models and their plugin processes before saying so.
	if cerr := cache.close(); cerr != nil {
		a.log.Warn("closing models", "err", cerr)
	}
	a.closeHost()
	fmt.Fprintln(a.io.Err, "bacoctl: server stopped")
	return err
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
