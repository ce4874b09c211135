package pluginhost_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/backend/backendtest"
	"github.com/baco-go/baco/core/decode"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/core/sample"
	"github.com/baco-go/baco/engine"
	"github.com/baco-go/baco/internal/testdata"
	"github.com/baco-go/baco/plugins/builtin"
	"github.com/baco-go/baco/sdk/plugin"
)

// localFake is the in-process twin of the fake plugin with
// "salt=<salt>&noeos=1".
func localFake(salt string) *backendtest.Fake {
	inner := backendtest.HashLogits(len(backendtest.Vocab()), salt)
	return backendtest.New("fake-"+salt, func(ctx []int32) []float32 {
		l := inner(ctx)
		l[2] = -100
		return l
	})
}

func generate(t *testing.T, base, aligned backend.Backend, r route.Router, req decode.Request) *decode.Result {
	t.Helper()
	return generateWith(t, decode.Config{Base: base, Aligned: aligned, Router: r}, req)
}

func generateWith(t *testing.T, cfg decode.Config, req decode.Request) *decode.Result {
	t.Helper()
	ctx := context.Background()
	d, err := decode.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Generate(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// sameResult fails the test unless two generations are identical token for
// token, trace included.
func sameResult(t *testing.T, got, want *decode.Result) {
	t.Helper()
	if len(got.Samples) != len(want.Samples) {
		t.Fatalf("%d samples, want %d", len(got.Samples), len(want.Samples))
	}
	for i := range want.Samples {
		g, w := got.Samples[i], want.Samples[i]
		if g.Text != w.Text || !reflect.DeepEqual(g.IDs, w.IDs) {
			t.Errorf("sample %d out of process: %q %v\nin process: %q %v", i, g.Text, g.IDs, w.Text, w.IDs)
		}
		if !reflect.DeepEqual(g.Trace, w.Trace) {
			t.Errorf("sample %d: the traces differ", i)
		}
		if g.Finish != w.Finish || g.BaseTokens != w.BaseTokens || g.BaseSteps != w.BaseSteps || g.AlignedSteps != w.AlignedSteps {
			t.Errorf("sample %d: finish %s base %d steps %d/%d; in process %s %d %d/%d", i,
				g.Finish, g.BaseTokens, g.BaseSteps, g.AlignedSteps, w.Finish, w.BaseTokens, w.BaseSteps, w.AlignedSteps)
		}
	}
}

func TestGenerateSameInAndOutOfProcess(t *testing.T) {
	ctx := context.Background()
	h, _ := newHost(t, nil)
	defer h.Close()
	warm := sample.Default()
	warm.Temperature = 0.9

	// Fake models.
	fb, err := h.Backend(ctx, "fake", "salt=base&noeos=1")
	if err != nil {
		t.Fatal(err)
	}
	fa, err := h.Backend(ctx, "fake", "salt=aligned&noeos=1")
	if err != nil {
		t.Fatal(err)
	}
	rp, err := h.Router(ctx, "p-punc", "0.5")
	if err != nil {
		t.Fatal(err)
	}
	lr, _ := route.Parse("p-punc:0.5")
	fakeReq := decode.Request{BasePrompt: []int32{1, 3, 7}, AlignedPrompt: []int32{1, 4, 8, 9}, N: 3, Seed: 7, MaxTokens: 24,
		BaseSampling: warm, AlignedSampling: warm}

	t.Run("fake models, plugin router", func(t *testing.T) {
		want := generate(t, localFake("base"), localFake("aligned"), lr, fakeReq)
		got := generate(t, fb, fa, rp, fakeReq)
		sameResult(t, got, want)
		if n := len(want.Samples[0].IDs); n < 10 {
			t.Fatalf("reference sample has only %d tokens; the test needs longer outputs", n)
		}
		share := 0
		for _, s := range want.Samples {
			share += s.BaseTokens
		}
		if share == 0 {
			t.Error("no token came from base: the router under test decided nothing")
		}
	})
	t.Run("fake models, in-process router", func(t *testing.T) {
		sameResult(t, generate(t, fb, fa, lr, fakeReq), generate(t, localFake("base"), localFake("aligned"), lr, fakeReq))
	})

	t.Run("stories260K through the gguf plugin, expr router plugin", func(t *testing.T) {
		model := testdata.Path(t, "models/stories260K.gguf")
		rule := `base.class == "punct" ? "aligned" : (base.p1 < 0.6 ? "base" : "aligned")`
		gb, err := h.Backend(ctx, "gguf", model)
		if err != nil {
			t.Fatal(err)
		}
		defer gb.Close()
		ga, err := h.Backend(ctx, "gguf", model)
		if err != nil {
			t.Fatal(err)
		}
		defer ga.Close()
		re, err := h.Router(ctx, "expr", rule)
		if err != nil {
			t.Fatal(err)
		}
		e, err := engine.Load(model)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		le, err := builtin.ExprFactory(rule)
		if err != nil {
			t.Fatal(err)
		}
		prompt, err := e.Tokenize(ctx, "Once upon a time", true, false)
		if err != nil {
			t.Fatal(err)
		}
		req := decode.Request{BasePrompt: prompt, AlignedPrompt: prompt, N: 2, Seed: 11, MaxTokens: 40,
			BaseSampling: warm, AlignedSampling: sample.Greedy()}
		want := generate(t, e, e, le, req)
		got := generate(t, gb, ga, re, req)
		sameResult(t, got, want)
		if len(want.Samples[0].IDs) < 5 {
			t.Fatalf("reference sample has only %d tokens", len(want.Samples[0].IDs))
		}
		t.Logf("sample 0: %q (base share %.2f)", want.Samples[0].Text, want.Samples[0].BaseShare())
	})
}

func TestKilledDuringGenerate(t *testing.T) {
	ctx := context.Background()
	h, _ := newHost(t, nil)
	marker := filepath.Join(t.TempDir(), "blocked")
	fb, err := h.Backend(ctx, "fake", "salt=base&noeos=1&block-after=5&marker="+marker)
	if err != nil {
		t.Fatal(err)
	}
	fa, err := h.Backend(ctx, "fake", "salt=aligned&noeos=1")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := route.Parse("rand:0.5")
	d, err := decode.New(ctx, decode.Config{Base: fb, Aligned: fa, Router: r, Boundary: decode.BoundaryToken})
	if err != nil {
		t.Fatal(err)
	}
	req := decode.Request{BasePrompt: []int32{1, 3}, AlignedPrompt: []int32{1, 4}, N: 2, Seed: 3, MaxTokens: 20,
		BaseSampling: sample.Default(), AlignedSampling: sample.Default()}
	errc := make(chan error, 1)
	go func() {
		_, err := d.Generate(ctx, req)
		errc <- err
	}()
	waitFile(t, marker)
	if err := syscall.Kill(fb.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = <-errc
	if err == nil || !strings.Contains(err.Error(), "plugin fake") || !errors.Is(err, plugin.ErrUnavailable) {
		t.Fatalf("generation on a killed plugin: %v, want an error naming plugin fake", err)
	}
	t.Logf("killed mid-generation: %v", err)
	// The next request gets a restarted plugin and the in-process result.
	got, err := d.Generate(ctx, req)
	if err != nil {
		t.Fatalf("the request after the crash: %v", err)
	}
	sameResult(t, got, generateWith(t, decode.Config{Base: localFake("base"), Aligned: localFake("aligned"), Router: r, Boundary: decode.BoundaryToken}, req))
	h.Close()
	checkClean(t)
}
