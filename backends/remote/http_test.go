package remote

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fastRetry keeps the tests quick: 3 tries, 1ms backoff.
var fastRetry = Retry{Attempts: 3, Base: time.Millisecond, Max: 2 * time.Millisecond, Timeout: 5 * time.Second}

func newClient(t *testing.T, h http.HandlerFunc, r Retry) (*Client, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n.Add(1)
		h(w, req)
	}))
	t.Cleanup(srv.Close)
	return &Client{HTTP: &http.Client{Transport: NewTransport(2)}, Base: srv.URL, Retry: r}, &n
}

func TestClientErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		h     http.HandlerFunc
		calls int32
		want  string
	}{
		{"500 retried then given up", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"error":{"code":500,"message":"kv cache full"}}`, 500)
		}, 3, "HTTP 500: kv cache full"},
		{"400 not retried, server message", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			w.Write([]byte(`{"error":{"code":400,"message":"\"prompt\" must be provided","type":"invalid_request_error"}}`))
		}, 1, `HTTP 400: "prompt" must be provided`},
		{"plain-text error body", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "model not found", 404)
		}, 1, "HTTP 404: model not found"},
		{"FastAPI detail", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(422)
			w.Write([]byte(`{"detail":[{"msg":"field required"}]}`))
		}, 1, `HTTP 422: [{"msg":"field required"}]`},
		{"malformed JSON not retried", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"tokens": [1, 2`))
		}, 1, "malformed JSON answer"},
		{"wrong JSON type", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"tokens": "abc"}`))
		}, 1, "malformed JSON answer"},
		{"501 not retried", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "no", 501)
		}, 1, "HTTP 501"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, n := newClient(t, tc.h, fastRetry)
			var out struct {
				Tokens []int `json:"tokens"`
			}
			err := c.Post(context.Background(), "/x", map[string]int{"a": 1}, &out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if n.Load() != tc.calls {
				t.Errorf("%d calls, want %d", n.Load(), tc.calls)
			}
		})
	}
}

func TestClientRetriesThenSucceeds(t *testing.T) {
	var n atomic.Int32
	c, calls := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) < 3 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, `{"error":"Loading model"}`, 503)
			return
		}
		w.Write([]byte(`{"status":"ok"}`))
	}, fastRetry)
	var out struct{ Status string }
	if err := c.Get(context.Background(), "/health", &out); err != nil || out.Status != "ok" {
		t.Fatalf("out %+v err %v", out, err)
	}
	if calls.Load() != 3 {
		t.Errorf("%d calls, want 3", calls.Load())
	}
}

func TestClientServerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close() // nothing listens there now
	c := &Client{HTTP: &http.Client{Transport: NewTransport(1)}, Base: url, Retry: fastRetry}
	err = c.Get(context.Background(), "/health", nil)
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 tries") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v", err)
	}
}

func TestClientHangTimesOut(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	c, n := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, Retry{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond, Timeout: 50 * time.Millisecond})
	err := c.Get(context.Background(), "/slow", nil)
	if err == nil || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Fatalf("err = %v", err)
	}
	if n.Load() != 2 {
		t.Errorf("%d calls, want 2", n.Load())
	}
}

func TestClientCallerCancel(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, Retry{Attempts: 5, Base: time.Millisecond, Max: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	err := c.Get(ctx, "/slow", nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestClientBodyLimit(t *testing.T) {
	c, n := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"content":"` + strings.Repeat("x", 2000) + `"}`))
	}, fastRetry)
	c.MaxBody = 1000
	err := c.Get(context.Background(), "/big", nil)
	if !errors.Is(err, ErrTooLarge) || n.Load() != 1 {
		t.Fatalf("err = %v after %d calls", err, n.Load())
	}
}

func TestClientSendsHeaders(t *testing.T) {
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "unauthorised", 401)
			return
		}
		w.Write([]byte(`{}`))
	}, fastRetry)
	c.Header = http.Header{"Authorization": {"Bearer k"}}
	if err := c.Post(context.Background(), "/x", struct{}{}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestParseBase(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080/": "http://127.0.0.1:8080", " https://h/v1 ": "https://h/v1",
		"ftp://h": "", "127.0.0.1:8080": "", "http://": "", "http://h\x7f": "",
	} {
		got, err := ParseBase(in)
		if (err == nil) != (want != "") || got != want {
			t.Errorf("ParseBase(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestBackoff(t *testing.T) {
	r := Retry{Base: 100 * time.Millisecond, Max: 400 * time.Millisecond}
	for try, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 9: 400 * time.Millisecond} {
		for range 20 {
			if d := r.backoff(try); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", try, d, want/2, want)
			}
		}
	}
}
