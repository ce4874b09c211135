package builtin

import (
	"fmt"
	"strings"

	"github.com/baco-go/baco/core/policy"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/sdk/plugin"
)

// ExprName is the name of the expr-rule router plugin.
const ExprName = "expr"

// ExprFactory builds a policy router from a parameter string: either a bare
// expr rule, e.g. `base.p1 < 0.3 ? "base" : "aligned"`, or a YAML policy
// document with the fields rule and vars (the format of policy files).
func ExprFactory(params string) (route.Router, error) {
	src := strings.TrimSpace(params)
	if src == "" {
		return nil, fmt.Errorf("expr router: the parameter string must be a rule or a policy document (rule: ..., vars: ...)")
	}
	var (
		p   *policy.Policy
		err error
	)
	if isPolicyDoc(src) {
		p, err = policy.LoadBytes("expr parameters", []byte(params))
	} else {
		p, err = policy.Compile(src, nil)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// isPolicyDoc reports whether s looks like a YAML policy document: a line
// that starts with "rule:".
func isPolicyDoc(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "rule:") && !strings.HasPrefix(line, " ") {
			return true
		}
	}
	return false
}

func exprOpts() []plugin.ServeOpt {
	return []plugin.ServeOpt{
		plugin.WithName(ExprName), plugin.WithVersion(Version),
		plugin.WithDescription("routes by an expr rule (see docs/policy.md)"),
		plugin.WithParamsHelp("an expr rule, or a YAML policy document with rule and vars"),
	}
}

// ServeExpr serves the expr-rule router until the host is done.
func ServeExpr(opts ...plugin.ServeOpt) {
	plugin.ServeRouterFactory(ExprFactory, append(exprOpts(), opts...)...)
}
