// Command baco-router-punc serves the built-in "punc" router as a baco plugin.
// Install it as baco-router-punc in a plugin directory; the host's parameter
// string is the router's γ where it takes one.
package main

import (
	"fmt"
	"os"

	"github.com/baco-go/baco/plugins/builtin"
)

func main() {
	if err := builtin.ServeRouter("punc"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
