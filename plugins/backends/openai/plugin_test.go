package main

import (
	"encoding/json"
	"testing"

	"github.com/baco-go/baco/backends/remote/remotetest"
	"github.com/baco-go/baco/internal/testdata"
	"github.com/baco-go/baco/sdk/plugintest"
)

// TestConformance runs the SDK's backend conformance suite on the built
// plugin against bacoctl serve serving stories260K (skipped with -short).
func TestConformance(t *testing.T) {
	url := remotetest.BacoctlServe(t)
	bin := plugintest.Build(t, "baco-backend-openai", "github.com/baco-go/baco/plugins/backends/openai")
	params, _ := json.Marshal(map[string]any{"base_url": url + "/v1", "model": "stories260K",
		"vocab_file": testdata.Path(t, "models/stories260K.gguf")})
	plugintest.RunBackend(t, bin, string(params), plugintest.WithText("Once upon a time"), plugintest.WithTolerance(1e-3),
		plugintest.WithBadParams("", `{"base_url": "http://x/v1"}`, `{"base_url": "ftp://x", "vocab_file": "/v.gguf"}`))
}
