package server

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/baco-go/baco/core/backend/backendtest"
	"github.com/baco-go/baco/pipeline"
)

// gatedFake is an in-memory model (never emitting EOS, so a generation
// runs until max_tokens or a cancel) whose Steps wait while the gate is
// closed. The tests use it to hold a batch still and look at the queue.
type gatedFake struct {
	*backendtest.Fake
	mu   sync.Mutex
	open chan struct{} // closed when steps may run
}

func newGatedFake(open bool) *gatedFake {
	logits := backendtest.HashLogits(len(backendtest.Vocab()), "server")
	g := &gatedFake{open: make(chan struct{})}
	g.Fake = backendtest.New("fake", func(ctx []int32) []float32 {
		l := logits(ctx)
		l[2] = -1e9 // never EOS
		return l
	})
	g.BeforeStep = func(ctx context.Context) error {
		g.mu.Lock()
		ch := g.open
		g.mu.Unlock()
		select {
		case <-ch:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if open {
		g.release()
	}
	return g
}

// release lets every step run from now on.
func (g *gatedFake) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// waitFor polls cond until it holds (no time bound of its own: the test
// binary's timeout is the limit).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		time.Sleep(2 * time.Millisecond)
	}
	t.Logf("reached: %s", what)
}

func TestQueueFullIs429(t *testing.T) {
	g := newGatedFake(false)
	t.Cleanup(g.release)
	m := openModel(t, "fake", g, pipeline.RouterSpec{Name: "aligned"}, true)
	url, s := startServer(t, Config{MaxSeqs: 1, QueueLen: 1, RetryAfter: 2 * time.Second}, []*Model{m})
	b := s.byID["fake"].batcher
	body := `{"model":"fake","prompt":"the cat","max_tokens":3,"temperature":0}`
	type result struct {
		status int
		body   string
	}
	results := make(chan result, 2)
	post := func() {
		resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(body))
		if err != nil {
			results <- result{0, err.Error()}
			return
		}
		results <- result{resp.StatusCode, readAll(t, resp)}
	}
	// The first request fills the batch (one sequence) and blocks in its
	// first step; the second waits in the queue (one place).
	go post()
	waitFor(t, "one request running", func() bool { return b.Stats().Running == 1 })
	go post()
	waitFor(t, "one request queued", func() bool { return b.Stats().Queued == 1 })
	resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, resp)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" ||
		!strings.Contains(got, `"type":"rate_limit_error"`) || !strings.Contains(got, `"code":"queue_full"`) {
		t.Fatalf("third request: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), got)
	}
	// A streamed request is refused the same way, before any event.
	resp, err = http.Post(url+"/v1/completions", "application/json", strings.NewReader(strings.Replace(body, `"max_tokens"`, `"stream":true,"max_tokens"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, resp); resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(got, "queue_full") {
		t.Fatalf("streamed third request: %d %s", resp.StatusCode, got)
	}
	g.release()
	for range 2 {
		if r := <-results; r.status != http.StatusOK {
			t.Fatalf("queued request: %d %s", r.status, r.body)
		}
	}
	mresp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if mb := readAll(t, mresp); !strings.Contains(mb, `baco_queue_full_total{model="fake"} 2`+"\n") {
		t.Fatalf("metrics: queue_full counter not 2")
	}
}

// TestDisconnectCancels: a client that goes away mid-stream has its
// sequences dropped by the batcher (the model never stops by itself).
func TestDisconnectCancels(t *testing.T) {
	g := newGatedFake(true)
	m := openModel(t, "fake", g, pipeline.RouterSpec{Name: "aligned"}, true)
	url, _ := startServer(t, Config{}, []*Model{m})
	for _, stream := range []bool{true, false} {
		ctx, cancel := context.WithCancel(context.Background())
		body := `{"model":"fake","prompt":"the cat","max_tokens":0,"n":2}`
		if stream {
			body = `{"model":"fake","prompt":"the cat","max_tokens":0,"n":2,"stream":true}`
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/completions", strings.NewReader(body))
		calls := len(g.Calls())
		done := make(chan struct{})
		go func() {
			defer close(done)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
			}
		}()
		// Wait until generation is under way: sequences open and stepped.
		waitFor(t, "sequences open", func() bool { return g.Live() >= 3 && len(g.Calls()) > calls+4 })
		cancel()
		<-done
		waitFor(t, "every sequence freed", func() bool { return g.Live() == 0 })
	}
}

func TestRequestTimeoutIs504(t *testing.T) {
	g := newGatedFake(false)
	t.Cleanup(g.release)
	m := openModel(t, "fake", g, pipeline.RouterSpec{Name: "aligned"}, true)
	url, _ := startServer(t, Config{RequestTimeout: 50 * time.Millisecond}, []*Model{m})
	for _, body := range []string{
		`{"model":"fake","prompt":"the cat","max_tokens":3}`,
		`{"model":"fake","prompt":"the cat","max_tokens":3,"stream":true}`,
	} {
		resp, got := postJSON(t, url, "/v1/completions", body)
		if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(got, `"code":"timeout"`) {
			t.Fatalf("%s: %d %s", body, resp.StatusCode, got)
		}
	}
}

// TestGracefulShutdown: cancelling Serve's context refuses new
// connections, lets the request in flight finish its stream, and leaves
// no goroutine behind.
func TestGracefulShutdown(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	g := newGatedFake(false)
	m := openModel(t, "fake", g, pipeline.RouterSpec{Name: "aligned"}, true)
	s, err := New(Config{Logger: slog.New(slog.DiscardHandler)}, []*Model{m})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	tr := &http.Transport{}
	client := &http.Client{Transport: tr}
	type result struct {
		status int
		body   string
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := client.Post("http://"+addr+"/v1/completions", "application/json",
			strings.NewReader(`{"model":"fake","prompt":"the cat","max_tokens":5,"temperature":0,"stream":true}`))
		if err != nil {
			res <- result{err: err}
			return
		}
		res <- result{status: resp.StatusCode, body: readAll(t, resp)}
	}()
	b := s.byID["fake"].batcher
	waitFor(t, "request in its first step", func() bool { return b.Stats().Running == 1 })
	cancel()
	waitFor(t, "listener closed", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	g.release()
	r := <-res
	if r.err != nil || r.status != http.StatusOK {
		t.Fatalf("request in flight: %d %v %s", r.status, r.err, r.body)
	}
	evs := sseEvents(t, r.body)
	if len(evs) < 2 || evs[len(evs)-1] != "[DONE]" || !strings.Contains(evs[len(evs)-2], `"finish_reason":"length"`) {
		t.Fatalf("the drained stream is incomplete: %q", r.body)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	tr.CloseIdleConnections()
	if n := g.Live(); n != 0 {
		t.Fatalf("%d sequences still open", n)
	}
}
