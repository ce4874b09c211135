// Package remotetest records real servers' HTTP answers and replays them
// in tests of the remote backends: a recording proxy in front of a live
// server writes one request/answer pair per line, and a replay server
// answers each request with the recorded answer to the same request
// (bodies compared as JSON, whatever the field order).
package remotetest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
)

// Exchange is one recorded request and the real server's answer.
type Exchange struct {
	// Method and Path are the request's.
	Method string `json:"method"`
	Path   string `json:"path"`
	// Request is the request body (JSON), if any.
	Request json.RawMessage `json:"request,omitempty"`
	// Status is the answer's HTTP status.
	Status int `json:"status"`
	// Response is the answer body: JSON, or a JSON string holding a body
	// that was not JSON.
	Response json.RawMessage `json:"response"`
}

// Canonical re-encodes a JSON body with sorted keys.
func Canonical(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return string(b)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// Key identifies a request for replay.
func Key(method, path string, body []byte) string {
	return method + " " + path + " " + Canonical(body)
}

func compact(b []byte) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		s, _ := json.Marshal(string(b))
		return s
	}
	return buf.Bytes()
}

// Recorder is a reverse proxy to a live server that keeps the first
// answer to every distinct request.
type Recorder struct {
	target string
	mu     sync.Mutex
	log    []Exchange
	seen   map[string]bool
}

// Record starts a recording proxy in front of target (a base URL) and
// returns its URL; Save writes what it saw.
func Record(t testing.TB, target string) (string, *Recorder) {
	r := &Recorder{target: strings.TrimRight(target, "/"), seen: map[string]bool{}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv.URL, r
}

// ServeHTTP forwards the request and records the exchange.
func (r *Recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	out, err := http.NewRequestWithContext(req.Context(), req.Method, r.target+req.URL.Path, bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = req.Header.Clone()
	resp, err := http.DefaultClient.Do(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	r.mu.Lock()
	if k := Key(req.Method, req.URL.Path, body); !r.seen[k] {
		r.seen[k] = true
		ex := Exchange{Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode, Response: compact(rb)}
		if len(bytes.TrimSpace(body)) > 0 {
			ex.Request = compact(body)
		}
		r.log = append(r.log, ex)
	}
	r.mu.Unlock()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	w.Write(rb)
}

// Save writes a header line (a JSON object with comment) and one
// exchange per line to path.
func (r *Recorder) Save(t testing.TB, path, comment string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b bytes.Buffer
	hdr, _ := json.Marshal(map[string]string{"comment": comment})
	b.Write(hdr)
	b.WriteByte('\n')
	for _, ex := range r.log {
		line, err := json.Marshal(ex)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d exchanges to %s", len(r.log), path)
}

// Load reads a file written by Save.
func Load(t testing.TB, path string) []Exchange {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("recording: %v (see the testdata README to re-record it)", err)
	}
	defer f.Close()
	var out []Exchange
	s := bufio.NewScanner(f)
	s.Buffer(nil, 16<<20)
	for n := 0; s.Scan(); n++ {
		if n == 0 {
			continue
		}
		var ex Exchange
		if err := json.Unmarshal(s.Bytes(), &ex); err != nil {
			t.Fatalf("%s line %d: %v", path, n+1, err)
		}
		out = append(out, ex)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Override replaces the answer to some requests: it gets the request
// body and the recorded answer (nil when there is none) and either
// writes its own answer and returns true, or returns false to let the
// recording answer.
type Override func(w http.ResponseWriter, r *http.Request, body, recorded []byte) bool

// Replayer answers requests from a recording; a request that was not
// recorded gets a 404 naming it (not retried by the backends).
type Replayer struct {
	byKey    map[string]Exchange
	override Override
	mu       sync.Mutex
	hits     map[string]int
	// URL is the replay server's base URL.
	URL string
}

// Replay serves the recording at path; override, when not nil, may
// answer first.
func Replay(t testing.TB, path string, override Override) *Replayer {
	r := &Replayer{byKey: map[string]Exchange{}, hits: map[string]int{}, override: override}
	for _, ex := range Load(t, path) {
		r.byKey[Key(ex.Method, ex.Path, ex.Request)] = ex
	}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// ServeHTTP answers one request.
func (r *Replayer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	k := Key(req.Method, req.URL.Path, body)
	ex, ok := r.byKey[k]
	r.mu.Lock()
	r.hits[req.URL.Path]++
	override := r.override
	r.mu.Unlock()
	if override != nil {
		var rec []byte
		if ok {
			rec = ex.Response
		}
		if override(w, req, body, rec) {
			return
		}
	}
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		if len(k) > 300 {
			k = k[:300] + "…"
		}
		msg, _ := json.Marshal(map[string]any{"error": map[string]any{"code": 404,
			"message": fmt.Sprintf("no recorded exchange for %s", k)}})
		w.Write(msg)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(ex.Status)
	var s string
	if json.Unmarshal(ex.Response, &s) == nil {
		w.Write([]byte(s))
		return
	}
	w.Write(ex.Response)
}

// SetOverride puts o in front of the current override: o answers first,
// and the requests it declines go to the previous override, then to the
// recording.
func (r *Replayer) SetOverride(o Override) {
	r.mu.Lock()
	defer r.mu.Unlock()
	prev := r.override
	r.override = func(w http.ResponseWriter, req *http.Request, body, rec []byte) bool {
		return o(w, req, body, rec) || (prev != nil && prev(w, req, body, rec))
	}
}

// Hits is how many requests reached path.
func (r *Replayer) Hits(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits[path]
}

// Reset zeroes the hit counts.
func (r *Replayer) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hits = map[string]int{}
}
