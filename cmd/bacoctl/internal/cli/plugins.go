package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/pipeline"

	"github.com/baco-go/baco/pluginhost"
	"github.com/baco-go/baco/plugins/backends/gguf/ggufbackend"
	"github.com/baco-go/baco/plugins/backends/httpbackends"
	"github.com/baco-go/baco/plugins/builtin"
	"github.com/baco-go/baco/sdk/plugin"
)

// builtinBackends are the backends bacoctl serves as plugins.
var builtinBackends = []string{ggufbackend.Name, httpbackends.LlamaCppName, httpbackends.OpenAIName}

// Hidden subcommands bacoctl re-executes itself with to serve its
// built-ins as plugins (self-exec).
const (
	serveBackendCmd = "serve-backend"
	serveRouterCmd  = "serve-router"
)

// pluginHost builds the plugin host of this invocation from the config:
// plugin-dir (directories searched first), plugins (per-plugin path, kind
// and sha256 pin), BACO_PLUGIN_PATH and the default directory, then the
// built-ins served by re-executing this binary. The caller closes it.
func (a *app) pluginHost() (*pluginhost.Host, error) {
	specs := map[string]pluginhost.Spec{}
	if a.v.IsSet("plugins") {
		if err := a.v.UnmarshalKey("plugins", &specs); err != nil {
			return nil, usagef("config plugins: %w", err)
		}
	}
	cfg := pluginhost.Config{
		Dirs:    a.v.GetStringSlice("plugin-dir"),
		Plugins: specs,
		Logger:  a.log,
	}
	if exe, err := os.Executable(); err == nil {
		cfg.Builtins = selfBuiltins(exe)
	}
	h, err := pluginhost.New(cfg)
	if err != nil {
		return nil, usageError{err}
	}
	return h, nil
}

// selfBuiltins lists the built-ins bacoctl serves by re-executing exe.
func selfBuiltins(exe string) []pluginhost.Builtin {
	var out []pluginhost.Builtin
	for _, n := range builtinBackends {
		out = append(out, pluginhost.Builtin{Kind: plugin.KindBackend, Name: n, Path: exe,
			Args: []string{"plugins", serveBackendCmd, n}})
	}
	for _, n := range builtin.RouterNames() {
		out = append(out, pluginhost.Builtin{Kind: plugin.KindRouter, Name: n, Path: exe,
			Args: []string{"plugins", serveRouterCmd, n}})
	}
	return out
}

func (a *app) pluginsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugins",
		Short: "List and inspect backend and router plugins",
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the plugins bacoctl can start, in resolution order",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := a.pluginHost()
			if err != nil {
				return err
			}
			defer h.Close()
			entries, err := h.List()
			if err != nil {
				return err
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				enc := json.NewEncoder(a.io.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(entries)
			}
			tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KIND\tNAME\tSOURCE\tPINNED\tPATH")
			for _, e := range entries {
				pinned := "-"
				if e.SHA256 != "" {
					pinned = "sha256:" + e.SHA256[:12]
				}
				path := e.Path
				if len(e.Args) > 0 {
					path += " " + strings.Join(e.Args, " ")
				}
				if e.Shadowed {
					path += "  (shadowed)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Kind, e.Name, e.Source, pinned, path)
			}
			return tw.Flush()
		},
	}
	list.Flags().Bool("json", false, "print JSON")

	inspect := &cobra.Command{
		Use:   "inspect NAME",
		Short: "Start a plugin, print what it says about itself, and stop it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, _ := cmd.Flags().GetString("kind")
			h, err := a.pluginHost()
			if err != nil {
				return err
			}
			defer h.Close()
			e, err := a.findPlugin(h, kind, args[0])
			if err != nil {
				return err
			}
			ins, err := h.InspectEntry(cmd.Context(), e)
			if err != nil {
				return err
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				enc := json.NewEncoder(a.io.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(ins)
			}
			d := ins.Description
			tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "name\t%s\n", d.Name)
			fmt.Fprintf(tw, "kind\t%s\n", d.Kind)
			fmt.Fprintf(tw, "version\t%s\n", d.Version)
			fmt.Fprintf(tw, "protocol\t%d (baco.plugin.v%d)\n", d.Protocol, d.Protocol)
			fmt.Fprintf(tw, "capabilities\t%s\n", strings.Join(d.Capabilities, ", "))
			if d.Description != "" {
				fmt.Fprintf(tw, "description\t%s\n", d.Description)
			}
			if d.ParamsHelp != "" {
				fmt.Fprintf(tw, "parameters\t%s\n", d.ParamsHelp)
			}
			fmt.Fprintf(tw, "path\t%s\n", strings.TrimSpace(e.Path+" "+strings.Join(e.Args, " ")))
			fmt.Fprintf(tw, "source\t%s\n", e.Source)
			fmt.Fprintf(tw, "sha256\t%s\n", ins.SHA256Actual)
			if e.SHA256 != "" {
				fmt.Fprintf(tw, "pinned\tyes (matches)\n")
			} else {
				fmt.Fprintf(tw, "pinned\tno\n")
			}
			return tw.Flush()
		},
	}
	inspect.Flags().String("kind", "", "backend or router, when both kinds have a plugin of that name")
	inspect.Flags().Bool("json", false, "print JSON")

	serveBackend := &cobra.Command{
		Use:    serveBackendCmd + " NAME",
		Short:  "Serve a built-in backend as a plugin (started by bacoctl itself)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			switch args[0] {
			case ggufbackend.Name:
				ggufbackend.Serve()
			case httpbackends.LlamaCppName:
				httpbackends.ServeLlamaCpp()
			case httpbackends.OpenAIName:
				httpbackends.ServeOpenAI()
			default:
				return usagef("no built-in backend %q; built-in backends: %s", args[0], strings.Join(builtinBackends, ", "))
			}
			return nil
		},
	}
	serveRouter := &cobra.Command{
		Use:    serveRouterCmd + " NAME",
		Short:  "Serve a built-in router as a plugin (started by bacoctl itself)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := builtin.ServeRouter(args[0]); err != nil {
				return usageError{err}
			}
			return nil
		},
	}
	cmd.AddCommand(list, inspect, serveBackend, serveRouter)
	return cmd
}

// findPlugin resolves NAME, asking for --kind when both kinds have it.
func (a *app) findPlugin(h *pluginhost.Host, kind, name string) (pluginhost.Entry, error) {
	if kind != "" {
		e, err := h.Find(kind, name)
		if err != nil {
			return pluginhost.Entry{}, usageError{err}
		}
		return e, nil
	}
	be, berr := h.Find(plugin.KindBackend, name)
	re, rerr := h.Find(plugin.KindRouter, name)
	switch {
	case berr == nil && rerr == nil:
		return pluginhost.Entry{}, usagef("both a backend and a router are called %q: add --kind backend or --kind router", name)
	case berr == nil:
		return be, nil
	case rerr == nil:
		return re, nil
	}
	return pluginhost.Entry{}, usagef("no plugin called %q (see bacoctl plugins list)", name)
}

// pluginOpener resolves model references through backend plugins (the
// out-of-process path): a .gguf path is served by the gguf plugin (bacoctl
// itself re-executed, or a baco-backend-gguf found in a plugin directory)
// with --context-len and --threads as parameters; "NAME:PARAMS" starts the
// backend plugin NAME with PARAMS, e.g. "openai:http://127.0.0.1:8000/v1"
// or "llamacpp:http://127.0.0.1:8080". The host h outlives the backends.
func (a *app) pluginOpener(h *pluginhost.Host) pipeline.Opener {
	return func(ctx context.Context, ref string) (backend.Backend, error) {
		if strings.HasSuffix(strings.ToLower(ref), ".gguf") || fileExists(ref) {
			if _, err := os.Stat(ref); err != nil {
				return nil, usagef("model %q: %w", ref, err)
			}
			p := ggufbackend.Params{Model: ref, ContextLen: a.v.GetInt("context-len"), Threads: a.v.GetInt("threads")}
			return h.Backend(ctx, ggufbackend.Name, p.Encode())
		}
		name, params, ok := strings.Cut(ref, ":")
		if !ok {
			return nil, usagef("model %q: not a .gguf file, nor NAME:PARAMS of a backend plugin", ref)
		}
		b, err := h.Backend(ctx, name, params)
		if err != nil {
			var nf *pluginhost.NotFoundError
			if errors.As(err, &nf) {
				return nil, usageError{err}
			}
			return nil, err
		}
		return b, nil
	}
}

// pluginRouter resolves a router spec "NAME" or "NAME:PARAMS" through the
// router plugin NAME (e.g. "warmup:8:0.3", or a built-in such as
// "p-punc:0.3" served out of process).
func pluginRouter(ctx context.Context, h *pluginhost.Host, spec string) (route.Router, error) {
	name, params, _ := strings.Cut(strings.TrimSpace(spec), ":")
	r, err := h.Router(ctx, name, params)
	if err != nil {
		var nf *pluginhost.NotFoundError
		if errors.As(err, &nf) {
			return nil, usageError{err}
		}
		return nil, err
	}
	return r, nil
}
