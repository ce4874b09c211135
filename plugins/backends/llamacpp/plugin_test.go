package main

import (
	"testing"

	"github.com/baco-go/baco/backends/remote/remotetest"
	"github.com/baco-go/baco/sdk/plugintest"
)

// TestConformance runs the SDK's backend conformance suite on the built
// plugin against a live llama-server (skipped without one).
func TestConformance(t *testing.T) {
	url := remotetest.LlamaServer(t, "-np", "4")
	bin := plugintest.Build(t, "baco-backend-llamacpp", "github.com/baco-go/baco/plugins/backends/llamacpp")
	// llama.cpp evaluates a batch of several tokens and one of a single
	// token with different kernels: the same distribution agrees to about
	// 1e-2 in log-probability, not bit for bit.
	plugintest.RunBackend(t, bin, url, plugintest.WithText("Once upon a time"), plugintest.WithTolerance(0.02),
		plugintest.WithBadParams("", `{"url": "ftp://nowhere"}`, `{"uri": "http://x"}`))
}
