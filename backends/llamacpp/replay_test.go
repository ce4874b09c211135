package llamacpp

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

// exchange is one recorded request and the real server's answer.
type exchange struct {
	Method   string          `json:"method"`
	Path     string          `json:"path"`
	Request  json.RawMessage `json:"request,omitempty"`
	Status   int             `json:"status"`
	Response json.RawMessage `json:"response"`
}

// canonical re-encodes a JSON body with sorted keys so that requests
// match whatever the field order.
func canonical(b []byte) string {
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

func key(method, path string, body []byte) string {
	return method + " " + path + " " + canonical(body)
}

// recorder is a reverse proxy to a real server that keeps every exchange.
type recorder struct {
	target string
	mu     sync.Mutex
	log    []exchange
	seen   map[string]bool
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
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
	k := key(req.Method, req.URL.Path, body)
	if !r.seen[k] {
		r.seen[k] = true
		ex := exchange{Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode, Response: compact(rb)}
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

func compact(b []byte) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		s, _ := json.Marshal(string(b)) // not JSON: keep it as a string
		return s
	}
	return buf.Bytes()
}

// record starts a recording proxy in front of target; save writes the
// exchanges to path, one JSON object per line after a header line.
func record(t *testing.T, target string) (url string, save func(path, header string)) {
	r := &recorder{target: target, seen: map[string]bool{}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv.URL, func(path, header string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		var b bytes.Buffer
		hdr, _ := json.Marshal(map[string]string{"comment": header})
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
}

// loadRecording reads a file written by record.
func loadRecording(t testing.TB, path string) []exchange {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("recording: %v (re-record with BACO_LLAMACPP_RECORD=1, see testdata/README.md)", err)
	}
	defer f.Close()
	var out []exchange
	s := bufio.NewScanner(f)
	s.Buffer(nil, 16<<20)
	for n := 0; s.Scan(); n++ {
		if n == 0 {
			continue // header
		}
		var ex exchange
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

// replayer answers each request with the recorded answer to the same
// request; an unrecorded request gets 404 naming it (not retried).
type replayer struct {
	byKey map[string]exchange
	mu    sync.Mutex
	hits  map[string]int
}

func newReplayer(exs []exchange) *replayer {
	r := &replayer{byKey: map[string]exchange{}, hits: map[string]int{}}
	for _, ex := range exs {
		r.byKey[key(ex.Method, ex.Path, ex.Request)] = ex
	}
	return r
}

func (r *replayer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	k := key(req.Method, req.URL.Path, body)
	ex, ok := r.byKey[k]
	r.mu.Lock()
	r.hits[req.URL.Path]++
	r.mu.Unlock()
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		msg, _ := json.Marshal(map[string]any{"error": map[string]any{"code": 404,
			"message": fmt.Sprintf("no recorded exchange for %s", trim(k, 300))}})
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

func (r *replayer) count(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits[path]
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return strings.TrimSpace(s)
}

// replay serves the recording at path.
func replay(t testing.TB, path string) (string, *replayer) {
	r := newReplayer(loadRecording(t, path))
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv.URL, r
}
