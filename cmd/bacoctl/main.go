// Command bacoctl runs BACo: token-level collaboration between a base model
// and its aligned counterpart. See `bacoctl --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/baco-go/baco/cmd/bacoctl/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
