package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/baco-go/baco/core/policy"
	"github.com/baco-go/baco/core/route"
)

func (a *app) policyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Check routing policies (expr rules) without loading a model",
	}
	check := &cobra.Command{
		Use:   "check [FILE]",
		Short: "Compile a policy file or a rule (-e) and print a one-line summary; exit 2 on error",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			expr, _ := cmd.Flags().GetString("expr")
			vars, _ := cmd.Flags().GetStringToString("var")
			var (
				p   *policy.Policy
				err error
				src string
			)
			switch {
			case expr != "" && len(args) == 1:
				return usagef("give a policy FILE or -e RULE, not both")
			case expr != "":
				vs := map[string]any{}
				for k, s := range vars {
					vs[k] = parseVar(s)
				}
				src = "rule"
				p, err = policy.Compile(expr, vs)
			case len(args) == 1:
				src = args[0]
				p, err = policy.LoadFile(args[0])
			default:
				return usagef("give a policy FILE or -e RULE")
			}
			if err != nil {
				return usageError{err}
			}
			fmt.Fprintf(a.io.Out, "ok: %s compiles; reads %s\n", src, needsString(p.Needs()))
			return nil
		},
	}
	check.Flags().StringP("expr", "e", "", "an expr rule to check")
	check.Flags().StringToString("var", nil, "rule constants, e.g. --var gamma=0.4")
	cmd.AddCommand(check)
	return cmd
}

func needsString(n route.Needs) string {
	switch {
	case n.Base && n.Aligned:
		return "both models' distributions"
	case n.Base:
		return "the base model's distribution"
	case n.Aligned:
		return "the aligned model's distribution"
	}
	return "no distribution"
}
