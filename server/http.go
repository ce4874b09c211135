package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/baco-go/baco/server/oai"
)

// routes builds the handler tree: every response, errors included, is JSON
// (or SSE, or Prometheus text for /metrics).
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(path, method string, open bool, h http.HandlerFunc) {
		mux.Handle(path, s.wrap(path, method, open, h))
	}
	handle("/healthz", http.MethodGet, true, s.health)
	handle("/health", http.MethodGet, true, s.health)
	handle("/metrics", http.MethodGet, false, s.metrics.handler().ServeHTTP)
	handle("/v1/models", http.MethodGet, false, s.listModels)
	handle("/v1/models/", http.MethodGet, false, s.getModel)
	handle("/v1/completions", http.MethodPost, false, s.completions)
	handle("/v1/chat/completions", http.MethodPost, false, s.chatCompletions)
	handle("/tokenize", http.MethodPost, false, s.tokenize)
	handle("/detokenize", http.MethodPost, false, s.detokenize)
	handle("/completion", http.MethodPost, false, s.llamaCompletion)
	handle("/", "", false, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, oai.NewError(http.StatusNotFound, oai.TypeInvalidRequest, "", "not_found",
			fmt.Sprintf("no endpoint %s %s (see docs/serve.md)", r.Method, r.URL.Path)))
	})
	return mux
}

// statusWriter records the status and size of a response for the access
// log and metrics; Unwrap lets http.ResponseController reach Flush.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap returns the wrapped writer (for http.ResponseController).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush flushes the wrapped writer when it can.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// statusClientClosed is what the access log records for a request whose
// client went away before a response was written (nginx's convention).
const statusClientClosed = 499

// wrap adds, around h: the method check, the API-key check (unless open),
// panic recovery, metrics and the access log.
func (s *Server) wrap(name, method string, open bool, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Done()
		start := time.Now()
		w := &statusWriter{ResponseWriter: rw}
		s.metrics.inFlight.Inc()
		defer func() {
			s.metrics.inFlight.Dec()
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("handler panic", "path", r.URL.Path, "panic", fmt.Sprint(p))
				if w.status == 0 {
					writeError(w, oai.NewError(http.StatusInternalServerError, oai.TypeServer, "", "", "internal error"))
				}
			}
			status := w.status
			if status == 0 {
				status = statusClientClosed
				if r.Context().Err() == nil {
					status = http.StatusOK
				}
			}
			d := time.Since(start)
			s.metrics.requests.WithLabelValues(name, strconv.Itoa(status)).Inc()
			s.metrics.duration.WithLabelValues(name).Observe(d.Seconds())
			s.cfg.AccessLogger.LogAttrs(r.Context(), slog.LevelInfo, "access",
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", status),
				slog.Int64("bytes", w.bytes), slog.Duration("duration", d), slog.String("remote", r.RemoteAddr),
				slog.String("model", w.Header().Get("X-Baco-Model")))
		}()
		if method != "" && r.Method != method {
			w.Header().Set("Allow", method)
			writeError(w, oai.NewError(http.StatusMethodNotAllowed, oai.TypeInvalidRequest, "", "method_not_allowed",
				fmt.Sprintf("%s %s: use %s", r.Method, r.URL.Path, method)))
			return
		}
		if !open && !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="baco"`)
			writeError(w, oai.NewError(http.StatusUnauthorized, oai.TypeAuthentication, "", "invalid_api_key",
				"missing or invalid API key: send Authorization: Bearer <key>"))
			return
		}
		h(w, r)
	})
}

// authorized checks the Bearer token in constant time against every key.
func (s *Server) authorized(r *http.Request) bool {
	if len(s.cfg.APIKeys) == 0 {
		return true
	}
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	match := 0
	for _, k := range s.cfg.APIKeys {
		want := sha256.Sum256([]byte(k))
		match |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	return match == 1
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readBody reads a request body of at most MaxBodyBytes.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *oai.Error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, oai.NewError(http.StatusRequestEntityTooLarge, oai.TypeInvalidRequest, "", "request_too_large",
				fmt.Sprintf("request body over %d bytes", s.cfg.MaxBodyBytes))
		}
		return nil, oai.Invalid("", "read the request body: %v", err)
	}
	return body, nil
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(oai.ErrorBody{Error: oai.NewError(status, oai.TypeServer, "", "", "encode the response: "+err.Error())})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// writeError writes an OpenAI-style error object.
func writeError(w http.ResponseWriter, e *oai.Error) {
	writeJSON(w, e.Status, oai.ErrorBody{Error: e})
}

// retryAfterSeconds rounds d up to whole seconds (at least 1).
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}
