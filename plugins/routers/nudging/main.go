// Command baco-router-nudging serves the built-in "nudging" router as a baco plugin.
// Install it as baco-router-nudging in a plugin directory; the host's parameter
// string is the router's γ where it takes one.
package main

import (
	"fmt"
	"os"

	"github.com/baco-go/baco/plugins/builtin"
)

func main() {
	if err := builtin.ServeRouter("nudging"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
