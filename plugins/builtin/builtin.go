// Package builtin serves baco's built-in routers as plugins: the thin
// binaries under plugins/routers/<name> and bacoctl's hidden
// `plugins serve-router NAME` subcommand (self-exec) both call ServeRouter.
// The gguf backend lives in plugins/backends/gguf/ggufbackend.
package builtin

import (
	"fmt"
	"slices"
	"strings"

	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/sdk/plugin"
)

// Version is the version built-in plugins report.
const Version = "0.1.0"

// RouterNames lists the built-in routers a plugin can serve: every router
// of route.Names(), then "expr".
func RouterNames() []string { return append(route.Names(), ExprName) }

// RouterFactory returns the factory of the built-in router called name and
// the serve options that describe it. The parameter string is the router's
// γ ("0.3"); routers without γ take an empty string; so one process serves
// "p-punc:0.3" and "p-punc:0.7". For "expr" it is the rule (ExprFactory).
func RouterFactory(name string) (plugin.RouterFactory, []plugin.ServeOpt, error) {
	if name == ExprName {
		return ExprFactory, exprOpts(), nil
	}
	info, ok := route.Lookup(name)
	if !ok {
		return nil, nil, fmt.Errorf("no built-in router %q; built-in routers: %s", name, strings.Join(RouterNames(), ", "))
	}
	f := func(params string) (route.Router, error) {
		params = strings.TrimSpace(params)
		if params == "" {
			return route.Parse(name)
		}
		return route.Parse(name + ":" + params)
	}
	help := "no parameters"
	if info.Gamma {
		help = fmt.Sprintf("γ (%s, %g to %g)", info.Unit, info.Min, info.Max)
	}
	opts := []plugin.ServeOpt{
		plugin.WithName(name), plugin.WithVersion(Version),
		plugin.WithDescription("built-in router: " + info.Rule), plugin.WithParamsHelp(help),
	}
	return f, opts, nil
}

// ServeRouter serves the built-in router called name until the host is
// done. It returns an error only for an unknown name.
func ServeRouter(name string, opts ...plugin.ServeOpt) error {
	f, base, err := RouterFactory(name)
	if err != nil {
		return err
	}
	plugin.ServeRouterFactory(f, append(base, opts...)...)
	return nil
}

// IsRouter reports whether name is a built-in router.
func IsRouter(name string) bool { return slices.Contains(RouterNames(), name) }
