// Package plugintest is the conformance suite a plugin author runs with
// `go test` against a built plugin binary:
//
//	func TestConformance(t *testing.T) {
//		bin := filepath.Join(t.TempDir(), "baco-router-warmup")
//		// go build -o bin . (see examples/router-plugin)
//		plugintest.RunRouter(t, bin, "8")
//	}
//
// It starts the binary the way baco's host does (go-plugin handshake,
// protocol negotiation, Describe) and checks the protocol contract: a
// well-formed description, well-formed answers, batching (a batch answers
// what each sequence would alone), determinism, and that bad requests get
// errors while the plugin stays up.
package plugintest

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/baco-go/baco/pluginhost"
	"github.com/baco-go/baco/sdk/plugin"
)

// Option adjusts a conformance run.
type Option func(*options)

type options struct {
	text      string
	tolerance float64
	badParams []string
	timeout   time.Duration
	logger    *slog.Logger
}

// WithText sets the text a backend must tokenize (default "Hello world").
func WithText(s string) Option { return func(o *options) { o.text = s } }

// WithTolerance sets how far two log-probabilities of the same position may
// differ between a batched and an unbatched step, or two runs (default
// 1e-3; 0 demands bit-identical answers).
func WithTolerance(tol float64) Option { return func(o *options) { o.tolerance = tol } }

// WithBadParams lists parameter strings the plugin must refuse with an
// error (and keep running).
func WithBadParams(params ...string) Option {
	return func(o *options) { o.badParams = append(o.badParams, params...) }
}

// WithStartTimeout bounds the plugin's start and every configure (default
// one minute).
func WithStartTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithLogger receives the host's and the plugin's logs (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

func newOptions(opts []Option) *options {
	o := &options{text: "Hello world", tolerance: 1e-3, timeout: time.Minute, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, f := range opts {
		f(o)
	}
	return o
}

// underTest is the name the suite gives the plugin.
const underTest = "under-test"

// newHost returns a host that knows only the binary at path.
func newHost(t *testing.T, path, kind string, o *options) *pluginhost.Host {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := pluginhost.New(pluginhost.Config{
		Plugins:          map[string]pluginhost.Spec{underTest: {Kind: kind, Path: abs}},
		NoDefaultDir:     true,
		Getenv:           func(string) string { return "" },
		StartTimeout:     o.timeout,
		ConfigureTimeout: o.timeout,
		Logger:           o.logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// checkDescription checks what Describe said.
func checkDescription(t *testing.T, d plugin.Description, kind string) {
	t.Helper()
	if d.Kind != kind {
		t.Errorf("Describe: kind %q, want %q", d.Kind, kind)
	}
	if d.Protocol != plugin.ProtocolVersion {
		t.Errorf("Describe: protocol %d, want %d", d.Protocol, plugin.ProtocolVersion)
	}
	if d.Name == "" {
		t.Error("Describe: empty name (use plugin.WithName)")
	}
	if d.Version == "" {
		t.Error("Describe: empty version (use plugin.WithVersion)")
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}
