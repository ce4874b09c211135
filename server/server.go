// Package server is the OpenAI-compatible HTTP server behind `bacoctl
// serve`: /v1/completions and /v1/chat/completions (plain and streamed),
// /v1/models, /healthz and /metrics over BACo pipelines, plus llama.cpp's
// /tokenize, /detokenize and /completion for single-model pipelines.
//
// Every pipeline has one decode.Batcher: concurrent requests share its
// batched forward passes (continuous batching), its bounded queue turns
// overload into 429 with Retry-After, and a client that goes away cancels
// its sequences at the next step. Serve drains requests in flight before
// it returns.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/decode"
	"github.com/baco-go/baco/core/prompt"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/core/tokenclass"
	"github.com/baco-go/baco/pipeline"
	"github.com/baco-go/baco/server/oai"
)

// DefaultAddr is where `bacoctl serve` listens unless told otherwise: the
// loopback interface only.
const DefaultAddr = "127.0.0.1:8080"

// Model is one id the server serves: a BACo pipeline (base + aligned +
// router) or a single model (base = aligned = that model, router
// "aligned").
type Model struct {
	// ID is the name clients send as "model".
	ID string
	// Decoder runs the pipeline; its router is the default router.
	Decoder *decode.Decoder
	// Base and Aligned are the decoder's backends (tokenizing prompts).
	Base, Aligned backend.Backend
	// Router is the spec the decoder's router was built from; the "baco"
	// request extension overrides parts of it.
	Router pipeline.RouterSpec
	// BasePrompt and AlignedPrompt say how chat messages become each
	// model's prompt (e.g. Raw for base, Auto or Chat for aligned).
	BasePrompt, AlignedPrompt prompt.Spec
	// Single marks a single-model pipeline: llama.cpp's endpoints serve it.
	Single bool
}

// Config tunes a Server. The zero value is usable.
type Config struct {
	// APIKeys, when not empty, are the Bearer tokens accepted on every
	// endpoint but /healthz and /health.
	APIKeys []string
	// MaxSeqs is the most sequences each pipeline steps together (default 16).
	MaxSeqs int
	// QueueLen is the most requests waiting per pipeline before 429 (default 64).
	QueueLen int
	// RequestTimeout bounds one request from arrival to its last byte
	// (default 10 minutes).
	RequestTimeout time.Duration
	// ShutdownTimeout bounds the drain of requests in flight when Serve's
	// context ends (default 30 s); requests still running then are cut.
	ShutdownTimeout time.Duration
	// RetryAfter is the Retry-After of a 429 (default 1 s).
	RetryAfter time.Duration
	// MaxBodyBytes bounds a request body (default 4 MiB).
	MaxBodyBytes int64
	// Limits bound what one request may ask for.
	Limits oai.Limits
	// Logger receives the server's own messages (nil: slog.Default()).
	Logger *slog.Logger
	// AccessLogger receives one Info record per request (nil: Logger).
	AccessLogger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.MaxSeqs <= 0 {
		c.MaxSeqs = 16
	}
	if c.QueueLen <= 0 {
		c.QueueLen = 64
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 10 * time.Minute
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.RetryAfter <= 0 {
		c.RetryAfter = time.Second
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 4 << 20
	}
	d := oai.DefaultLimits()
	if c.Limits.MaxN <= 0 {
		c.Limits.MaxN = d.MaxN
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.AccessLogger == nil {
		c.AccessLogger = c.Logger
	}
	return c
}

// Server serves a fixed set of models. Build it with New, then call Serve
// (or mount Handler and run the batchers with Run).
type Server struct {
	cfg     Config
	log     *slog.Logger
	models  []*served
	byID    map[string]*served
	metrics *metrics
	handler http.Handler
	created int64

	runMu    sync.Mutex
	running  bool
	inflight sync.WaitGroup // handlers running
}

// served is a Model with its batcher and what the handlers need of it.
type served struct {
	m                     *Model
	batcher               *decode.Batcher
	baseInfo, alignedInfo backend.Info
	baseStops, alStops    map[int32]bool
	ctxLen                int // the smaller positive context length, 0 if unknown
	table                 *tokenclass.Table
	routers               *routerCache
}

// New checks the models and builds a Server; no goroutine runs until Serve
// or Run.
func New(cfg Config, models []*Model) (*Server, error) {
	cfg = cfg.withDefaults()
	if len(models) == 0 {
		return nil, errors.New("server: no models to serve")
	}
	s := &Server{cfg: cfg, log: cfg.Logger, byID: map[string]*served{}, created: time.Now().Unix()}
	for i, m := range models {
		switch {
		case m == nil || m.Decoder == nil || m.Base == nil || m.Aligned == nil:
			return nil, fmt.Errorf("server: model %d: a decoder and both backends are required", i)
		case strings.TrimSpace(m.ID) == "":
			return nil, fmt.Errorf("server: model %d: empty id", i)
		case s.byID[m.ID] != nil:
			return nil, fmt.Errorf("server: two models are called %q", m.ID)
		}
		sv := &served{m: m, baseInfo: m.Decoder.BaseInfo(), alignedInfo: m.Decoder.AlignedInfo(), table: m.Decoder.Table(),
			routers: newRouterCache(64)}
		sv.baseStops, sv.alStops = stopSet(sv.baseInfo), stopSet(sv.alignedInfo)
		for _, n := range []int{sv.baseInfo.ContextLen, sv.alignedInfo.ContextLen} {
			if n > 0 && (sv.ctxLen == 0 || n < sv.ctxLen) {
				sv.ctxLen = n
			}
		}
		id := m.ID
		sv.batcher = m.Decoder.NewBatcher(decode.BatcherOptions{MaxSeqs: cfg.MaxSeqs, QueueLen: cfg.QueueLen,
			// The metrics exist before any batcher runs (Serve starts them).
			OnStep: func(_ int, took time.Duration) { s.metrics.perModel[id].step.Observe(took.Seconds()) }})
		s.models = append(s.models, sv)
		s.byID[m.ID] = sv
	}
	s.metrics = newMetrics(s)
	s.handler = s.routes()
	return s, nil
}

func stopSet(info backend.Info) map[int32]bool {
	m := map[int32]bool{}
	for _, id := range info.StopIDs {
		m[id] = true
	}
	if info.EOS >= 0 {
		m[info.EOS] = true
	}
	return m
}

// isStop reports whether ev is the emitting model's end-of-sequence token
// (the decoder ends the sample on it and leaves it out of the text).
func (sv *served) isStop(ev *decode.Event) bool {
	switch ev.Source {
	case route.Base:
		return sv.baseStops[ev.ID]
	case route.Aligned:
		return sv.alStops[ev.ID]
	}
	return sv.baseStops[ev.ID] || sv.alStops[ev.ID]
}

// Handler is the server's HTTP handler. Requests for generation fail with
// 503 unless Run (or Serve) is running the batchers.
func (s *Server) Handler() http.Handler { return s.handler }

// Run steps every model's batcher until ctx ends, then fails what is still
// queued or running and returns. Serve calls it; use it directly only when
// mounting Handler in your own http.Server.
func (s *Server) Run(ctx context.Context) error {
	if err := s.claim(); err != nil {
		return err
	}
	return s.run(ctx)
}

// claim marks the batchers as started: a Server runs them once.
func (s *Server) claim() error {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	if s.running {
		return errors.New("server: already served (Serve and Run may be called once)")
	}
	s.running = true
	return nil
}

func (s *Server) run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(s.models))
	for i, sv := range s.models {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = sv.batcher.Run(ctx)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Serve serves HTTP on ln until ctx ends, then shuts down gracefully: it
// stops accepting connections, lets requests in flight finish (streams
// included) for up to ShutdownTimeout, stops the batchers, and returns
// once every goroutine it started has ended. It returns nil after a clean
// shutdown. A Server serves once: a second Serve or Run fails.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.claim(); err != nil {
		return err
	}
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	runDone := make(chan error, 1)
	go func() { runDone <- s.run(runCtx) }()

	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String(), "models", len(s.models))

	var err error
	served := false
	select {
	case err = <-serveErr:
		// The listener failed: drain what it had accepted all the same.
		served = true
	case <-ctx.Done():
	}
	s.log.Info("shutting down: draining requests in flight", "timeout", s.cfg.ShutdownTimeout)
	dctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	if e := hs.Shutdown(dctx); e != nil {
		s.log.Warn("drain timed out: closing the remaining connections", "err", e)
		hs.Close()
	}
	cancel()
	if !served {
		if e := <-serveErr; !errors.Is(e, http.ErrServerClosed) {
			err = e
		}
	}
	// Stop the batchers (failing what a cut connection left behind), then
	// wait for the last handlers to notice.
	stopRun()
	if e := <-runDone; e != nil && err == nil {
		err = e
	}
	s.inflight.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
