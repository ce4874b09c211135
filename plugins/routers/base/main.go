// Command baco-router-base serves the built-in "base" router as a baco plugin.
// Install it as baco-router-base in a plugin directory; the host's parameter
// string is the router's γ where it takes one.
package main

import (
	"fmt"
	"os"

	"github.com/baco-go/baco/plugins/builtin"
)

func main() {
	if err := builtin.ServeRouter("base"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
