package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/prompt"
	"github.com/baco-go/baco/engine"
	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/modelgen"
	"github.com/baco-go/baco/internal/testdata"
	"github.com/baco-go/baco/pipeline"
	"github.com/baco-go/baco/server"
)

type shared struct{ backend.Backend }

func (shared) Close() error { return nil }

// serve loads the model at path (context ctxLen, threads engine threads)
// and serves it alone ("single") and as a BACo pipeline with itself on
// both sides ("baco", p-punc:0.5) until the test ends.
func serve(t testing.TB, path string, ctxLen, threads int, cfg server.Config) string {
	t.Helper()
	opts := []engine.Option{engine.WithThreads(threads), engine.WithLogger(slog.New(slog.DiscardHandler))}
	if ctxLen > 0 {
		opts = append(opts, engine.WithContextLen(ctxLen))
	}
	e, err := engine.Load(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	open := func(context.Context, string) (backend.Backend, error) { return shared{e}, nil }
	var models []*server.Model
	for _, m := range []struct {
		id     string
		router string
	}{{"single", "aligned"}, {"baco", "p-punc:0.5"}} {
		rs := pipeline.RouterSpec{Name: m.router}
		p, err := pipeline.Open(context.Background(), pipeline.Spec{Base: "m", Aligned: "m", Router: rs}, open, nil)
		if err != nil {
			t.Fatal(err)
		}
		raw := prompt.Spec{Mode: prompt.Raw}
		models = append(models, &server.Model{ID: m.id, Decoder: p.Decoder, Base: p.Base, Aligned: p.Aligned, Router: rs,
			BasePrompt: raw, AlignedPrompt: raw, Single: m.router == "aligned"})
	}
	cfg.Logger = slog.New(slog.DiscardHandler)
	s, err := server.New(cfg, models)
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
	return "http://" + ln.Addr().String()
}

// metric reads one sample of the server's /metrics.
func metric(t *testing.T, url, series string) float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	io.Copy(io.Discard, resp.Body)
	t.Fatalf("metric %s not found", series)
	return 0
}

// TestLoad64Clients: 64 concurrent clients, a fixed number of requests,
// plain and streamed; the queue (64 per pipeline) can hold every waiting
// request, so every answer is a 200: no 5xx and no 429.
func TestLoad64Clients(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped with -short")
	}
	url := serve(t, testdata.Path(t, "models/stories260K.gguf"), 512, 1, server.Config{QueueLen: 64, MaxSeqs: 16})
	for _, c := range []struct {
		model  string
		stream bool
		reqs   int
	}{{"baco", false, 128}, {"baco", true, 64}, {"single", true, 64}} {
		rep, err := Run(context.Background(), Options{URL: url, Model: c.model, Clients: 64, Requests: c.reqs, MaxTokens: 16, Stream: c.stream})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s stream=%v: %s", c.model, c.stream, rep)
		if rep.Errors != 0 || rep.OK() != c.reqs || rep.ServerErrors() != 0 || rep.Status[http.StatusTooManyRequests] != 0 {
			t.Fatalf("%s stream=%v: %s (first error: %v)", c.model, c.stream, rep, rep.FirstError)
		}
		// EOS may end a sample early, never late.
		if rep.CompletionTokens == 0 || rep.CompletionTokens > 16*c.reqs {
			t.Fatalf("%d tokens for %d requests of at most 16", rep.CompletionTokens, c.reqs)
		}
	}
}

// TestLoadSmallQueue: with room for 2 running and 2 waiting requests, 64
// clients are refused with 429 (with Retry-After) exactly as often as the
// server found its queue full, and never get a 5xx.
func TestLoadSmallQueue(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped with -short")
	}
	url := serve(t, testdata.Path(t, "models/stories260K.gguf"), 512, 1, server.Config{QueueLen: 2, MaxSeqs: 2})
	rep, err := Run(context.Background(), Options{URL: url, Model: "baco", Clients: 64, Requests: 64, MaxTokens: 32})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", rep)
	refused := rep.Status[http.StatusTooManyRequests]
	if rep.Errors != 0 || rep.ServerErrors() != 0 || rep.OK()+refused != 64 || rep.RetryAfterMissing != 0 {
		t.Fatalf("%s (first error %v, %d 429s without Retry-After)", rep, rep.FirstError, rep.RetryAfterMissing)
	}
	if full := metric(t, url, `baco_queue_full_total{model="baco"}`); int(full) != refused {
		t.Fatalf("%d responses were 429 but the server found its queue full %v times", refused, full)
	}
}

// TestThroughputReport measures, for docs/performance.md, one stream
// against 16 concurrent streams and a 64-client load on stories260K and on
// a random SmolLM2-135M-shaped Q8_0 model. It asserts nothing about
// speed; set BACO_LOADTEST_REPORT=1 to run it.
func TestThroughputReport(t *testing.T) {
	if os.Getenv("BACO_LOADTEST_REPORT") == "" {
		t.Skip("set BACO_LOADTEST_REPORT=1 to measure throughput for docs/performance.md")
	}
	smol := filepath.Join(t.TempDir(), "smollm2-135m-q8_0.gguf")
	if err := modelgen.Write(smol, modelgen.Options{Shape: modelgen.SmolLM2_135M(), Type: gguf.TypeQ8_0, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	threads := runtime.NumCPU()
	models := []struct {
		name, path  string
		ctx, tokens int
	}{
		{"stories260K (F32)", testdata.Path(t, "models/stories260K.gguf"), 512, 128},
		{"SmolLM2-135M shape, random Q8_0", smol, 0, 32},
	}
	var out strings.Builder
	fmt.Fprintf(&out, "GOMAXPROCS %d, engine threads %d\n\n", runtime.GOMAXPROCS(0), threads)
	fmt.Fprintln(&out, "| model | pipeline | run | requests | p50 | p99 | tok/s |")
	fmt.Fprintln(&out, "|---|---|---|---|---|---|---|")
	for _, m := range models {
		url := serve(t, m.path, m.ctx, threads, server.Config{QueueLen: 64, MaxSeqs: 16})
		for _, pipe := range []string{"single", "baco"} {
			var one float64
			for _, r := range []struct {
				name          string
				clients, reqs int
				stream        bool
			}{{"1 stream", 1, 4, true}, {"16 streams", 16, 32, true}, {"64 clients", 64, 128, false}} {
				rep, err := Run(context.Background(), Options{URL: url, Model: pipe, Clients: r.clients, Requests: r.reqs,
					MaxTokens: m.tokens, Stream: r.stream, Timeout: 10 * time.Minute})
				if err != nil {
					t.Fatal(err)
				}
				if rep.OK() != r.reqs {
					t.Fatalf("%s %s %s: %s (%v)", m.name, pipe, r.name, rep, rep.FirstError)
				}
				tps := rep.TokensPerSecond()
				ratio := ""
				if r.clients == 1 {
					one = tps
				} else if r.clients == 16 {
					ratio = fmt.Sprintf(" (%.1f× one stream)", tps/one)
				}
				fmt.Fprintf(&out, "| %s | %s | %s | %d × %d tokens | %s | %s | %.0f%s |\n", m.name, pipe, r.name, r.reqs, m.tokens,
					Percentile(rep.Latencies, 50).Round(time.Millisecond), Percentile(rep.Latencies, 99).Round(time.Millisecond), tps, ratio)
			}
		}
	}
	t.Logf("\n%s", out.String())
}
