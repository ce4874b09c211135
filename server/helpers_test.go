package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/prompt"
	"github.com/baco-go/baco/engine"
	"github.com/baco-go/baco/internal/testdata"
	"github.com/baco-go/baco/pipeline"
)

// shared lends one backend to several pipelines: Close is a no-op, the
// test closes the real backend.
type shared struct{ backend.Backend }

func (shared) Close() error { return nil }

// loadStories loads stories260K with its real training context (512; the
// file's metadata says 128).
func loadStories(t testing.TB) *engine.Engine {
	t.Helper()
	path := testdata.Path(t, "models/stories260K.gguf")
	e, err := engine.Load(path, engine.WithContextLen(512), engine.WithThreads(1), engine.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// openModel builds a served Model over be with the given router.
func openModel(t testing.TB, id string, be backend.Backend, router pipeline.RouterSpec, single bool) *Model {
	t.Helper()
	open := func(context.Context, string) (backend.Backend, error) { return shared{be}, nil }
	p, err := pipeline.Open(context.Background(), pipeline.Spec{Base: "m", Aligned: "m", Router: router}, open, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw := prompt.Spec{Mode: prompt.Raw}
	return &Model{ID: id, Decoder: p.Decoder, Base: p.Base, Aligned: p.Aligned, Router: router,
		BasePrompt: raw, AlignedPrompt: prompt.Spec{Mode: prompt.Auto}, Single: single}
}

// storiesModels are the two ids the tests serve over one stories260K
// engine: "stories" (single model) and "stories-baco" (base = aligned =
// stories260K with router p-punc:0.5, so greedy text is the model's own
// while tokens come from both sides).
func storiesModels(t testing.TB) []*Model {
	e := loadStories(t)
	return []*Model{
		openModel(t, "stories", e, pipeline.RouterSpec{Name: "aligned"}, true),
		openModel(t, "stories-baco", e, pipeline.RouterSpec{Name: "p-punc:0.5"}, false),
	}
}

// startServer serves models on a loopback port until the test ends and
// returns the base URL.
func startServer(t testing.TB, cfg Config, models []*Model) (string, *Server) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := New(cfg, models)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String(), s
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
