package plugin_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"reflect"
	"strings"
	"testing"

	goplugin "github.com/hashicorp/go-plugin"
	"go.uber.org/goleak"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/backend/backendtest"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/sdk/plugin"
)

// serveInProcess serves with go-plugin's test mode and returns a
// connection; everything stops at cleanup.
func serveInProcess(t *testing.T, serve func(opts ...plugin.ServeOpt)) *plugin.Conn {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *goplugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go serve(plugin.WithServeTest(&goplugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach, CloseCh: closed}),
		plugin.WithLogger(slog.New(slog.DiscardHandler)))
	rc := <-reattach
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: plugin.Handshake(), Plugins: plugin.ClientPlugins()[plugin.ProtocolVersion], Reattach: rc,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC}, GRPCDialOptions: plugin.GRPCDialOptions(),
		Logger: plugin.NewHCLogger(nil, ""),
	})
	cp, err := client.Client()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// In test mode Kill leaves the connection open: closing it asks the
		// server to shut down, and Serve returns. (Cancelling first would
		// make two goroutines stop go-plugin's server at once.)
		cp.Close()
		<-closed
		cancel()
	})
	raw, err := cp.Dispense(plugin.DispenseName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(*plugin.Conn)
}

func TestBackendInProcess(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	// In test mode go-plugin polls for the "plugin" (this process) to exit.
	pidWait := goleak.IgnoreTopFunction("github.com/hashicorp/go-plugin/internal/cmdrunner.pidWait")
	t.Cleanup(func() { goleak.VerifyNone(t, ignore, pidWait) }) // runs after serveInProcess's cleanup
	fake := backendtest.New("m", backendtest.HashLogits(len(backendtest.Vocab()), "m"))
	conn := serveInProcess(t, func(opts ...plugin.ServeOpt) {
		plugin.ServeBackendFactory(func(_ context.Context, params string) (backend.Backend, error) {
			if params != "ok" {
				return nil, errors.New("want params ok")
			}
			return fake, nil
		}, append(opts, plugin.WithName("m"), plugin.WithVersion("9.9"))...)
	})
	ctx := context.Background()
	d, err := conn.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := plugin.Description{Name: "m", Kind: plugin.KindBackend, Version: "9.9", Protocol: 1, Capabilities: []string{plugin.CapParams}}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("Describe = %+v, want %+v", d, want)
	}
	b := conn.Backend("m")
	if _, err := b.Info(ctx); err == nil || !strings.Contains(err.Error(), "plugin m: info: backend not configured") {
		t.Errorf("Info before Configure: %v", err)
	}
	if err := b.Configure(ctx, "bad"); err == nil || !strings.Contains(err.Error(), "want params ok") {
		t.Errorf("Configure(bad): %v", err)
	}
	if err := b.Configure(ctx, "ok"); err != nil {
		t.Fatal(err)
	}
	if err := b.Configure(ctx, "ok"); err == nil || !strings.Contains(err.Error(), "already configured") {
		t.Errorf("second Configure: %v", err)
	}
	info, err := b.Info(ctx)
	if err != nil || info.VocabSize != len(backendtest.Vocab()) {
		t.Fatalf("Info = %+v, %v", info, err)
	}
	s, _ := b.Open(ctx)
	out, err := b.Step(ctx, []backend.StepInput{{Seq: s, Tokens: []int32{1, 3}, TopK: 4, AllPositions: true}})
	if err != nil {
		t.Fatal(err)
	}
	ref := backendtest.New("m", backendtest.HashLogits(len(backendtest.Vocab()), "m"))
	rs, _ := ref.Open(ctx)
	rout, _ := ref.Step(ctx, []backend.StepInput{{Seq: rs, Tokens: []int32{1, 3}, TopK: 4, AllPositions: true}})
	if !reflect.DeepEqual(out, rout) {
		t.Errorf("Step through the protocol differs from the backend's own answer")
	}
	// Cancellation stays recognisable.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.Step(cctx, []backend.StepInput{{Seq: s, Tokens: []int32{3}}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Step with a cancelled context: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Error(err)
	}
}

// badRouter answers a weight outside [0,1] for view 1.
type badRouter struct{}

func (badRouter) Name() string       { return "bad" }
func (badRouter) Needs() route.Needs { return route.Needs{} }
func (badRouter) Decide(_ context.Context, vs []route.View, out []route.Decision) error {
	for i := range out {
		out[i].Weight = 0.5
	}
	if len(out) > 1 {
		out[1].Weight = math.NaN()
	}
	return nil
}

// fullReader asks for full distributions.
type fullReader struct{ badRouter }

func (fullReader) ReadsFullDist() bool { return true }

func TestRouterInProcess(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	// In test mode go-plugin polls for the "plugin" (this process) to exit.
	pidWait := goleak.IgnoreTopFunction("github.com/hashicorp/go-plugin/internal/cmdrunner.pidWait")
	t.Cleanup(func() { goleak.VerifyNone(t, ignore, pidWait) }) // runs after serveInProcess's cleanup
	conn := serveInProcess(t, func(opts ...plugin.ServeOpt) {
		plugin.ServeRouterFactory(func(params string) (route.Router, error) {
			switch params {
			case "bad":
				return badRouter{}, nil
			case "full":
				return fullReader{}, nil
			}
			return route.Parse(params)
		}, append(opts, plugin.WithName("r"))...)
	})
	ctx := context.Background()
	r, err := conn.OpenRouter(ctx, "r", "p:0.3")
	if err != nil {
		t.Fatal(err)
	}
	if r.Name() != "p:0.3" || !r.Needs().Base || r.Needs().Aligned || r.ReadsFullDist() {
		t.Errorf("instance %q %+v full %v", r.Name(), r.Needs(), r.ReadsFullDist())
	}
	if _, err := conn.OpenRouter(ctx, "r", "nope"); err == nil || !strings.Contains(err.Error(), "plugin r: open router") {
		t.Errorf("bad params: %v", err)
	}
	bad, err := conn.OpenRouter(ctx, "r", "bad")
	if err != nil {
		t.Fatal(err)
	}
	out := make([]route.Decision, 2)
	if err := bad.Decide(ctx, make([]route.View, 2), out); !errors.Is(err, plugin.ErrBadAnswer) || !strings.Contains(err.Error(), "plugin r: decide") {
		t.Errorf("NaN weight: %v", err)
	}
	if err := bad.Decide(ctx, make([]route.View, 2), out[:1]); err == nil {
		t.Error("mismatched out slice accepted")
	}
	full, _ := conn.OpenRouter(ctx, "r", "full")
	if !full.ReadsFullDist() {
		t.Error("ReadsFullDist did not travel")
	}
	if err := bad.Close(ctx); err != nil {
		t.Error(err)
	}
	if err := bad.Close(ctx); err == nil {
		t.Error("closing twice succeeded")
	}
	if err := bad.Decide(ctx, make([]route.View, 1), out[:1]); err == nil || !strings.Contains(err.Error(), "no router instance") {
		t.Errorf("Decide on a closed instance: %v", err)
	}
}
