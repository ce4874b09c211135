// Command baco-router-expr serves routers defined by expr rules as a baco
// plugin: the host's parameter string is the rule, or a YAML policy
// document with rule and vars.
package main

import (
	"fmt"
	"os"

	"github.com/baco-go/baco/plugins/builtin"
)

func main() {
	if err := builtin.ServeRouter(builtin.ExprName); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
