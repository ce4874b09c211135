// Command baco-router-warmup is an example third-party baco router plugin:
// aligned for the first N tokens of every sample, then the paper's p-punc
// rule. The host's parameter string is "N" or "N:γ", e.g. "8:0.3".
//
// Build it, drop it into a plugin directory as baco-router-warmup, and use
// it as the router "warmup:8:0.3"; see README.md.
package main

import "github.com/baco-go/baco/sdk/plugin"

func main() {
	plugin.ServeRouterFactory(New,
		plugin.WithName("warmup"),
		plugin.WithVersion("0.1.0"),
		plugin.WithDescription("aligned for the first N tokens, then p-punc"),
		plugin.WithParamsHelp(`"N" or "N:γ": warm-up length in tokens, p-punc γ in [0,1] (default 0.5)`),
	)
}
