// Command baco-router-p-fc serves the built-in "p-fc" router as a baco plugin.
// Install it as baco-router-p-fc in a plugin directory; the host's parameter
// string is the router's γ where it takes one.
package main

import (
	"fmt"
	"os"

	"github.com/baco-go/baco/plugins/builtin"
)

func main() {
	if err := builtin.ServeRouter("p-fc"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
