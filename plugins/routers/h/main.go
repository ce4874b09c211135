// Command baco-router-h serves the built-in "h" router as a baco plugin.
// Install it as baco-router-h in a plugin directory; the host's parameter
// string is the router's γ where it takes one.
package main

import (
	"fmt"
	"os"

	"github.com/baco-go/baco/plugins/builtin"
)

func main() {
	if err := builtin.ServeRouter("h"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
