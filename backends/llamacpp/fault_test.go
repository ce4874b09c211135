package llamacpp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/baco-go/baco/backends/remote"
	"github.com/baco-go/baco/backends/remote/remotetest"
	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/decode"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/internal/testdata"
)

// fastRetry keeps fault tests quick: 3 tries, 1ms apart, 5s per try.
var fastRetry = remote.Retry{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond, Timeout: 5 * time.Second}

// faultServer replays the recording, except for the paths in overrides,
// whose handlers get the request body and the recorded answer (nil when
// none) and write their own answer. It counts requests per path.
type faultServer struct {
	rep   *remotetest.Replayer
	calls map[string]*atomic.Int32
	url   string
}

type override func(w http.ResponseWriter, body []byte, recorded []byte)

func isProbe(body []byte) bool { return bytes.Contains(body, []byte(`"n_probs":512`)) }

func newFaultServer(t *testing.T, overrides map[string]override) *faultServer {
	t.Helper()
	fs := &faultServer{calls: map[string]*atomic.Int32{}}
	for _, p := range []string{"/health", "/props", "/v1/models", "/tokenize", "/completion"} {
		fs.calls[p] = &atomic.Int32{}
	}
	fs.rep = remotetest.Replay(t, recording, func(w http.ResponseWriter, r *http.Request, body, rec []byte) bool {
		if c := fs.calls[r.URL.Path]; c != nil {
			c.Add(1)
		}
		o := overrides[r.URL.Path]
		if o == nil || (r.URL.Path == "/completion" && isProbe(body)) {
			return false
		}
		o(w, body, rec)
		return true
	})
	fs.url = fs.rep.URL
	return fs
}

// connect opens a backend on the fault server. Overrides of /completion
// never apply to New's vocabulary probe, so connecting works whatever
// the step faults.
func (fs *faultServer) connect(t *testing.T, o Options) *Backend {
	t.Helper()
	o.URL = fs.url
	if o.Retry == (remote.Retry{}) {
		o.Retry = fastRetry
	}
	b, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func stepPrompt(t *testing.T, b *Backend) (backend.SeqID, error) {
	seq, err := b.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Step(context.Background(), []backend.StepInput{{Seq: seq, Tokens: storiesPrompt, TopK: 20}})
	return seq, err
}

func TestStepFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		o     override
		calls int32
		want  []string
	}{
		{"500 retried, server message", func(w http.ResponseWriter, _, _ []byte) {
			w.WriteHeader(500)
			w.Write([]byte(`{"error":{"code":500,"message":"failed to decode the batch","type":"server_error"}}`))
		}, 3, []string{"gave up after 3 tries", "HTTP 500: failed to decode the batch", "step seq 1"}},
		{"400 not retried", func(w http.ResponseWriter, _, _ []byte) {
			w.WriteHeader(400)
			w.Write([]byte(`{"error":{"code":400,"message":"the request exceeds the available context size","type":"invalid_request_error"}}`))
		}, 1, []string{"HTTP 400: the request exceeds the available context size"}},
		{"malformed JSON", func(w http.ResponseWriter, _, _ []byte) {
			w.Write([]byte(`{"completion_probabilities": [{"id": 432, "top_logprobs": [`))
		}, 1, []string{"malformed JSON answer"}},
		{"no probabilities", func(w http.ResponseWriter, _, _ []byte) {
			w.Write([]byte(`{"content": ",", "stop": true}`))
		}, 1, []string{"no completion_probabilities"}},
		{"fewer top logprobs than asked", func(w http.ResponseWriter, _, rec []byte) {
			var m map[string]any
			json.Unmarshal(rec, &m)
			p := m["completion_probabilities"].([]any)[0].(map[string]any)
			p["top_logprobs"] = p["top_logprobs"].([]any)[:3]
			json.NewEncoder(w).Encode(m)
		}, 1, []string{"server returned 3 candidates, asked for 20"}},
		{"old probs format", func(w http.ResponseWriter, _, _ []byte) {
			w.Write([]byte(`{"completion_probabilities":[{"content":",","probs":[{"tok_str":",","prob":0.97}],"top_logprobs":[{"id":432,"token":",","prob":0.97}]}]}`))
		}, 1, []string{"has no logprob"}},
		{"id outside the vocabulary", func(w http.ResponseWriter, _, rec []byte) {
			w.Write(bytes.Replace(rec, []byte(`"id":432`), []byte(`"id":9999`), -1))
		}, 1, []string{"id 9999 outside the vocabulary [0, 512)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFaultServer(t, map[string]override{"/completion": tc.o})
			b := fs.connect(t, Options{})
			fs.calls["/completion"].Store(0)
			seq, err := stepPrompt(t, b)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to say %q", err, w)
				}
			}
			if n := fs.calls["/completion"].Load(); n != tc.calls {
				t.Errorf("%d /completion calls, want %d", n, tc.calls)
			}
			if n, _ := b.seqs.Len(seq); n != 0 {
				t.Errorf("the failed step left %d tokens in the sequence", n)
			}
		})
	}
}

func TestStepHangTimesOut(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	fs := newFaultServer(t, map[string]override{"/completion": func(w http.ResponseWriter, _, _ []byte) {
		<-release
	}})
	b := fs.connect(t, Options{Retry: remote.Retry{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond, Timeout: 50 * time.Millisecond}})
	_, err := stepPrompt(t, b)
	if err == nil || !strings.Contains(err.Error(), "no answer within 50ms") || !strings.Contains(err.Error(), "gave up after 2 tries") {
		t.Fatalf("err = %v", err)
	}
}

func TestStepCancelled(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	entered := make(chan struct{}, 1)
	fs := newFaultServer(t, map[string]override{"/completion": func(w http.ResponseWriter, _, _ []byte) {
		entered <- struct{}{}
		<-release
	}})
	b := fs.connect(t, Options{Retry: remote.Retry{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond}})
	seq, _ := b.Open(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-entered; cancel() }()
	_, err := b.Step(ctx, []backend.StepInput{{Seq: seq, Tokens: storiesPrompt}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestServerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	_, err = New(context.Background(), Options{URL: url, Retry: fastRetry})
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "health") {
		t.Fatalf("err = %v", err)
	}
}

func TestNewRefusesOtherServers(t *testing.T) {
	for _, tc := range []struct {
		name string
		path string
		body string
		want string
	}{
		{"no vocabulary size", "/v1/models", `{"data":[{"id":"gpt-x"}]}`, "no vocabulary size"},
		{"absurd vocabulary", "/v1/models", `{"data":[{"id":"m","meta":{"vocab_type":1,"n_vocab":2000000000}}]}`, "more than the 2097152 baco accepts"},
		{"props not JSON", "/props", `<html>not here</html>`, "malformed JSON"},
		{"props 404", "/props", "", "HTTP 404"},
		{"unhealthy", "/health", `{"status":"loading"}`, `status "loading"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFaultServer(t, map[string]override{tc.path: func(w http.ResponseWriter, _, _ []byte) {
				if tc.body == "" {
					http.NotFound(w, nil)
					return
				}
				w.Write([]byte(tc.body))
			}})
			_, err := New(context.Background(), Options{URL: fs.url, Retry: fastRetry})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestStepValidatesBeforeSending(t *testing.T) {
	fs := newFaultServer(t, nil)
	b := fs.connect(t, Options{})
	seq, _ := b.Open(context.Background())
	long := make([]int32, 512) // the server's slot holds 512, so 511 at most
	fs.calls["/completion"].Store(0)
	for _, in := range []backend.StepInput{{Seq: seq, Tokens: long}, {Seq: seq, Tokens: []int32{512}}, {Seq: seq + 7, Tokens: []int32{1}}} {
		if _, err := b.Step(context.Background(), []backend.StepInput{in}); err == nil {
			t.Errorf("step %+v: no error", in)
		}
	}
	if _, err := b.Pieces(context.Background(), []int32{5, 600}); err == nil || !strings.Contains(err.Error(), "id 600") {
		t.Errorf("pieces of 600: %v", err)
	}
	if _, err := b.Detokenize(context.Background(), []int32{-1}); err == nil {
		t.Error("detokenize of -1: no error")
	}
	if n := fs.calls["/completion"].Load(); n != 0 {
		t.Errorf("%d requests sent for invalid steps", n)
	}
	b.Close()
	if _, err := b.Open(context.Background()); !errors.Is(err, remote.ErrClosed) {
		t.Errorf("open after close: %v", err)
	}
}

// TestVocabCheck builds BACo pairs of the embedded engine (base) and the
// remote model (aligned): the recorded vocabulary passes the decoder's
// check; the same answers with one piece changed are refused before any
// generation, naming the token.
func TestVocabCheck(t *testing.T) {
	e := loadEngine(t)
	ctx := context.Background()
	router, err := route.Parse("p:0.5")
	if err != nil {
		t.Fatal(err)
	}
	good := newFaultServer(t, nil).connect(t, Options{})
	if _, err := decode.New(ctx, decode.Config{Base: e, Aligned: good, Router: router}); err != nil {
		t.Fatalf("same vocabulary refused: %v", err)
	}
	bad := newFaultServer(t, map[string]override{"/tokenize": func(w http.ResponseWriter, body, rec []byte) {
		w.Write(bytes.Replace(rec, []byte(`{"id":300,"piece":" ha"}`), []byte(`{"id":300,"piece":" ho"}`), 1))
	}}).connect(t, Options{})
	_, err = decode.New(ctx, decode.Config{Base: e, Aligned: bad, Router: router})
	var mm *decode.VocabMismatchError
	if !errors.As(err, &mm) || mm.ID != 300 || mm.BasePiece != "▁ha" || mm.AlignedPiece != "▁ho" {
		t.Fatalf("err = %v, want a mismatch at token 300", err)
	}
}

func TestVocabFile(t *testing.T) {
	fs := newFaultServer(t, nil)
	plain := fs.connect(t, Options{})
	fs.calls["/completion"].Store(0)
	withFile := fs.connect(t, Options{VocabFile: testdata.Path(t, "models/stories260K.gguf")})
	pi, _ := plain.Info(context.Background())
	fi, _ := withFile.Info(context.Background())
	if pi.Fingerprint != fi.Fingerprint || pi.BOS != fi.BOS || pi.EOS != fi.EOS || pi.AddBOS != fi.AddBOS ||
		len(fi.ControlIDs) != 2 || fi.ContextLen != pi.ContextLen {
		t.Errorf("with a vocabulary file: %+v\nfrom the server: %+v", fi, pi)
	}
	if n := fs.calls["/completion"].Load(); n != 0 {
		t.Errorf("%d /completion probes with a vocabulary file", n)
	}
	text, _ := withFile.Detokenize(context.Background(), storiesGreedy)
	if text != storiesGreedyText {
		t.Errorf("detokenize with a vocabulary file = %q", text)
	}
	_, err := New(context.Background(), Options{URL: fs.url, Retry: fastRetry,
		VocabFile: testdata.Path(t, "tokenizer/ggml-vocab-llama-spm.gguf")})
	if err == nil || !strings.Contains(err.Error(), "has 32000 tokens, the server's model 512") {
		t.Errorf("a different vocabulary file: %v", err)
	}
}

func TestWaitsForLoadingModel(t *testing.T) {
	var n atomic.Int32
	fs := newFaultServer(t, map[string]override{"/health": func(w http.ResponseWriter, _, rec []byte) {
		if n.Add(1) <= 2 {
			w.WriteHeader(503)
			w.Write([]byte(`{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}`))
			return
		}
		w.Write(rec)
	}})
	b := fs.connect(t, Options{Retry: remote.Retry{Attempts: 1}})
	if b.info.VocabSize != 512 || n.Load() != 3 {
		t.Errorf("vocab %d after %d health calls", b.info.VocabSize, n.Load())
	}
	// A server that never finishes loading is an error after LoadWait.
	fs = newFaultServer(t, map[string]override{"/health": func(w http.ResponseWriter, _, _ []byte) {
		w.WriteHeader(503)
		w.Write([]byte(`{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}`))
	}})
	_, err := New(context.Background(), Options{URL: fs.url, Retry: remote.Retry{Attempts: 1}, LoadWait: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "HTTP 503: Loading model") {
		t.Fatalf("err = %v", err)
	}
}

// TestVocabularyFallbacks reads the vocabulary from a server that refuses
// id lists on /tokenize (bacoctl serve's llama.cpp endpoints take text
// only) and will not list the whole vocabulary in one /completion: the
// texts then come from /detokenize one id at a time and the control
// tokens from their text. On stories260K the result is still exact.
func TestVocabularyFallbacks(t *testing.T) {
	// The texts, from the recorded /tokenize of all 512 ids.
	var texts []string
	for _, ex := range remotetest.Load(t, recording) {
		if ex.Path != "/tokenize" || !bytes.Contains(ex.Request, []byte(`"with_pieces":true`)) {
			continue
		}
		var r struct {
			Tokens []piece `json:"tokens"`
		}
		if err := json.Unmarshal(ex.Response, &r); err != nil || len(r.Tokens) != 512 {
			continue
		}
		for _, p := range r.Tokens {
			s, err := p.text()
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, s)
		}
	}
	if len(texts) != 512 {
		t.Fatalf("recording holds %d texts", len(texts))
	}
	var detok atomic.Int32
	fs := newFaultServer(t, map[string]override{
		"/tokenize": func(w http.ResponseWriter, body, rec []byte) {
			if bytes.Contains(body, []byte(`"content":[`)) {
				w.WriteHeader(400)
				w.Write([]byte(`{"error":{"message":"content: wrong JSON type array","type":"invalid_request_error"}}`))
				return
			}
			w.Write(rec)
		},
	})
	// /detokenize is not in the recording: answer it from the texts.
	fs.rep.SetOverride(func(w http.ResponseWriter, r *http.Request, body, rec []byte) bool {
		switch {
		case r.URL.Path == "/detokenize":
			detok.Add(1)
			var req struct{ Tokens []int32 }
			json.Unmarshal(body, &req)
			var sb strings.Builder
			for _, id := range req.Tokens {
				sb.WriteString(texts[id])
			}
			json.NewEncoder(w).Encode(map[string]string{"content": sb.String()})
			return true
		case r.URL.Path == "/completion" && isProbe(body):
			w.WriteHeader(400)
			w.Write([]byte(`{"error":{"message":"n_probs 512: want 0..20"}}`))
			return true
		}
		return false
	})
	b := fs.connect(t, Options{})
	e := loadEngine(t)
	ei, _ := e.Info(context.Background())
	if b.info.Fingerprint != ei.Fingerprint || len(b.info.ControlIDs) != 2 || b.info.BOS != 1 || b.info.EOS != 2 {
		t.Errorf("vocabulary through the fallbacks: %+v", b.info)
	}
	if detok.Load() != 512 {
		t.Errorf("%d /detokenize requests, want one per id (512)", detok.Load())
	}
}
