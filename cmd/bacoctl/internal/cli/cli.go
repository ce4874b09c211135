// Package cli implements bacoctl's commands (cobra + viper): configuration
// comes from a YAML file (--config or BACO_CONFIG), BACO_* environment
// variables and flags, flags winning.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/baco-go/baco/pipeline"
	"github.com/baco-go/baco/pluginhost"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1 // a runtime failure (model error, I/O)
	ExitUsage   = 2 // bad flags, config, rule or router: nothing ran
)

// IO is where a command reads and writes.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
}

// usageError marks errors that exit with ExitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns an error that exits with code 2.
func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// app is the state shared by one invocation's commands (no globals).
type app struct {
	io      IO
	v       *viper.Viper
	log     *slog.Logger
	plugins *pluginhost.Host // started on first use, closed by Main
}

// Main runs bacoctl with args and returns the process exit code.
func Main(ctx context.Context, args []string, stdio IO) int {
	a := &app{io: stdio, v: viper.New()}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdio.In)
	root.SetOut(stdio.Out)
	root.SetErr(stdio.Err)
	err := root.ExecuteContext(ctx)
	a.closeHost()
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(stdio.Err, "bacoctl: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, pipeline.ErrSpec) || isFlagError(err) {
		return ExitUsage
	}
	return ExitFailure
}

// isFlagError recognises cobra's own argument and flag errors.
func isFlagError(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand", "unknown command", "flag needs an argument",
		"invalid argument", "accepts ", "requires at least", "requires exactly", "if any flags in the group"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "bacoctl",
		Short:         "Base-aligned model collaboration: decode one response from a base and an aligned LLM",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.loadConfig(cmd)
		},
	}
	root.PersistentFlags().String("config", "", "YAML config file (also BACO_CONFIG)")
	root.PersistentFlags().String("log-level", "warn", "log level: debug, info, warn, error")
	root.PersistentFlags().Bool("in-process", false, "load models into this process instead of backend plugin processes")
	root.AddCommand(a.generateCmd(), a.serveCmd(), a.evalCmd(), a.modelsCmd(), a.pluginsCmd(), a.policyCmd(), a.tokenizeCmd(), a.inspectCmd(), a.versionCmd())
	return root
}

// loadConfig binds the command's flags, BACO_* variables and the config
// file into the invocation's viper instance.
func (a *app) loadConfig(cmd *cobra.Command) error {
	v := a.v
	v.SetEnvPrefix("BACO")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_", ".", "_"))
	v.AutomaticEnv()
	var bindErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err := v.BindPFlag(f.Name, f); err != nil && bindErr == nil {
			bindErr = err
		}
	})
	if bindErr != nil {
		return bindErr
	}
	path := v.GetString("config")
	if path != "" {
		v.SetConfigFile(path)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return usagef("config file %s: %w", path, err)
		}
		if err := checkConfigKeys(cmd, path); err != nil {
			return err
		}
	}
	level := slog.LevelWarn
	if err := level.UnmarshalText([]byte(v.GetString("log-level"))); err != nil {
		return usagef("--log-level %q: want debug, info, warn or error", v.GetString("log-level"))
	}
	a.log = slog.New(slog.NewTextHandler(a.io.Err, &slog.HandlerOptions{Level: level}))
	return nil
}

// knownConfigKeys are the keys a config file may hold.
var knownConfigKeys = map[string]bool{
	"base": true, "aligned": true, "router": true, "rule": true, "policy": true, "vars": true,
	"n": true, "seed": true, "max-tokens": true, "temperature": true, "top-p": true, "top-k": true, "min-p": true,
	"base-temperature": true, "aligned-temperature": true, "chat": true, "raw": true, "chat-template": true,
	"boundary": true, "context-len": true, "threads": true, "stop": true, "system": true, "log-level": true,
	"json": true, "models": true, "models-dir": true, "strict-entropy": true, "plugins": true, "plugin-dir": true, "in-process": true, "pipelines": true, "serve": true,
}

// checkConfigKeys refuses keys of the config file that no command reads,
// so a typo does not silently fall back to a default.
func checkConfigKeys(cmd *cobra.Command, path string) error {
	fv := viper.New()
	fv.SetConfigFile(path)
	fv.SetConfigType("yaml")
	if err := fv.ReadInConfig(); err != nil {
		return usagef("config file %s: %w", path, err)
	}
	for _, k := range fv.AllKeys() {
		top := strings.SplitN(k, ".", 2)[0]
		if !knownConfigKeys[top] && cmd.Flags().Lookup(top) == nil {
			return usagef("config file %s: unknown key %q", path, top)
		}
	}
	return nil
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(a.io.Out, "bacoctl", Version)
			return nil
		},
	}
}

// Version is the bacoctl version string.
const Version = "0.1.0-dev"

func readAllString(r io.Reader) (string, error) {
	if r == nil {
		return "", nil
	}
	b, err := io.ReadAll(r)
	return string(b), err
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
