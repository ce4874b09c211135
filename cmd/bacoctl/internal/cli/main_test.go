package cli

import (
	"context"
	"os"
	"testing"
)

// TestMain lets the test binary stand in for bacoctl when the plugin host
// re-executes "itself" to serve a built-in backend or router plugin: the
// default (out-of-process) path is then exercised by every CLI test.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "plugins" && (os.Args[2] == serveBackendCmd || os.Args[2] == serveRouterCmd) {
		os.Exit(Main(context.Background(), os.Args[1:], IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
	}
	os.Exit(m.Run())
}
