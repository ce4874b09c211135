package openai

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

var fastRetry = remote.Retry{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond, Timeout: 5 * time.Second}

// stepFault overrides the answers to step requests (not the negotiation
// probe, whose prompt is a single token) on the llama-server recording.
func stepFault(t *testing.T, f func(w http.ResponseWriter, body, rec []byte)) (*remotetest.Replayer, *atomic.Int32) {
	var n atomic.Int32
	rep := remotetest.Replay(t, recordings[0].file, func(w http.ResponseWriter, r *http.Request, body, rec []byte) bool {
		if r.URL.Path != "/v1/completions" || isProbe(body) {
			return false
		}
		n.Add(1)
		f(w, body, rec)
		return true
	})
	return rep, &n
}

func isProbe(body []byte) bool {
	var m struct {
		Prompt json.RawMessage `json:"prompt"`
	}
	json.Unmarshal(body, &m)
	return !bytes.Contains(m.Prompt, []byte(","))
}

func connect(t *testing.T, url string, o Options) *Backend {
	t.Helper()
	o.BaseURL = url + "/v1"
	o.VocabFile = testdata.Path(t, "models/stories260K.gguf")
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

func TestStepFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		f     func(w http.ResponseWriter, body, rec []byte)
		calls int32
		want  []string
	}{
		{"500 retried, server message", func(w http.ResponseWriter, _, _ []byte) {
			w.WriteHeader(500)
			w.Write([]byte(`{"error":{"message":"CUDA out of memory","type":"server_error","code":500}}`))
		}, 3, []string{"gave up after 3 tries", "HTTP 500: CUDA out of memory"}},
		{"502 plain text", func(w http.ResponseWriter, _, _ []byte) {
			http.Error(w, "bad gateway from the proxy", 502)
		}, 3, []string{"HTTP 502: bad gateway from the proxy"}},
		{"400 not retried", func(w http.ResponseWriter, _, _ []byte) {
			w.WriteHeader(400)
			w.Write([]byte(`{"error":{"message":"This model's maximum context length is 512 tokens","type":"invalid_request_error","code":400}}`))
		}, 1, []string{"HTTP 400: This model's maximum context length is 512 tokens"}},
		{"malformed JSON", func(w http.ResponseWriter, _, _ []byte) {
			w.Write([]byte(`{"choices": [{"logprobs": {"content": [`))
		}, 1, []string{"malformed JSON answer"}},
		{"no logprobs", func(w http.ResponseWriter, _, _ []byte) {
			w.Write([]byte(`{"choices": [{"text": ",", "index": 0}]}`))
		}, 1, []string{"answer has no logprobs"}},
		{"fewer top logprobs than asked", func(w http.ResponseWriter, _, rec []byte) {
			var m map[string]any
			json.Unmarshal(rec, &m)
			c := m["choices"].([]any)[0].(map[string]any)["logprobs"].(map[string]any)["content"].([]any)[0].(map[string]any)
			c["top_logprobs"] = c["top_logprobs"].([]any)[:2]
			json.NewEncoder(w).Encode(m)
		}, 1, []string{"server returned 2 candidates, asked for 20"}},
		{"id outside the vocabulary", func(w http.ResponseWriter, _, rec []byte) {
			w.Write(bytes.Replace(rec, []byte(`"id":432`), []byte(`"id":70000`), -1))
		}, 1, []string{"id 70000 outside the vocabulary [0, 512)"}},
		{"unknown text key", func(w http.ResponseWriter, _, _ []byte) {
			w.Write([]byte(`{"choices":[{"logprobs":{"tokens":[","],"top_logprobs":[{",":-0.03,"zzzz":-3.5}]}}]}`))
		}, 1, []string{`candidate "zzzz" is no token of the vocabulary`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, n := stepFault(t, tc.f)
			b := connect(t, rep.URL, Options{})
			seq, _ := b.Open(context.Background())
			_, err := b.Step(context.Background(), []backend.StepInput{{Seq: seq, Tokens: storiesPrompt, TopK: 20}})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to say %q", err, w)
				}
			}
			if n.Load() != tc.calls {
				t.Errorf("%d step requests, want %d", n.Load(), tc.calls)
			}
			if l, _ := b.seqs.Len(seq); l != 0 {
				t.Errorf("failed step left %d tokens", l)
			}
		})
	}
}

func TestStepHangTimesOut(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	rep, _ := stepFault(t, func(w http.ResponseWriter, _, _ []byte) { <-release })
	b := connect(t, rep.URL, Options{Retry: remote.Retry{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond, Timeout: 50 * time.Millisecond}})
	seq, _ := b.Open(context.Background())
	_, err := b.Step(context.Background(), []backend.StepInput{{Seq: seq, Tokens: storiesPrompt}})
	if err == nil || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Fatalf("err = %v", err)
	}
}

func TestServerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	_, err = New(context.Background(), Options{BaseURL: url + "/v1", VocabFile: testdata.Path(t, "models/stories260K.gguf"), Retry: fastRetry})
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v", err)
	}
}

// refuseTokenPrompts answers 400 to a prompt given as a list of ids, as
// OpenAI and Ollama do.
func refuseTokenPrompts(w http.ResponseWriter, r *http.Request, body, _ []byte) bool {
	var m struct {
		Prompt json.RawMessage `json:"prompt"`
	}
	if r.URL.Path != "/v1/completions" || json.Unmarshal(body, &m) != nil || !bytes.HasPrefix(m.Prompt, []byte("[")) {
		return false
	}
	w.WriteHeader(400)
	w.Write([]byte(`{"error":{"message":"'prompt' must be a string","type":"invalid_request_error"}}`))
	return true
}

func TestTextFallback(t *testing.T) {
	rep := remotetest.Replay(t, recordings[0].file, refuseTokenPrompts)
	b := connect(t, rep.URL, Options{})
	if info, _ := b.Info(context.Background()); info.Caps.TokenPrompts || b.tokens {
		t.Fatalf("token prompts after a refusal: %+v", info.Caps)
	}
	seq, _ := b.Open(context.Background())
	out, err := b.Step(context.Background(), []backend.StepInput{{Seq: seq, Tokens: storiesPrompt, TopK: 5}})
	if err != nil || out[0].Dists[0].TopID() != storiesGreedy[0] {
		t.Fatalf("text step: %+v, %v", out, err)
	}
	_, err = New(context.Background(), Options{BaseURL: rep.URL + "/v1", VocabFile: testdata.Path(t, "models/stories260K.gguf"),
		Prompts: PromptTokens, Retry: fastRetry})
	if err == nil || !strings.Contains(err.Error(), "refused every prompt style") || !strings.Contains(err.Error(), "'prompt' must be a string") {
		t.Errorf("tokens-only on a text-only server: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	rep := remotetest.Replay(t, recordings[1].file, nil)
	vf := testdata.Path(t, "models/stories260K.gguf")
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"unknown model", Options{Model: "gpt-9"}, `model "gpt-9" is not served; the server has stories260K`},
		{"no vocabulary", Options{VocabFile: "-"}, "no vocabulary"},
		{"bad tokenizer", Options{VocabFile: "-", Tokenizer: "hf"}, `tokenizer "hf"`},
		{"bad prompts", Options{Prompts: "ids"}, `prompts "ids"`},
		{"negative", Options{MaxTopK: -1}, "negative"},
		{"bad URL", Options{BaseURL: "localhost:8000"}, "scheme must be http or https"},
		{"missing vocabulary file", Options{VocabFile: "/nonexistent.gguf"}, "nonexistent.gguf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			if o.BaseURL == "" {
				o.BaseURL = rep.URL + "/v1"
			}
			switch o.VocabFile {
			case "":
				o.VocabFile = vf
			case "-":
				o.VocabFile = ""
			}
			o.Retry = fastRetry
			_, err := New(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseAnswer(t *testing.T) {
	v := func(s string) (int32, bool, bool) {
		switch s {
		case ",":
			return 432, true, false
		case " there":
			return 383, true, false
		case "a":
			return 412, true, true
		}
		return 0, false, false
	}
	for _, tc := range []struct {
		name      string
		body      string
		want      []remote.Cand
		kind      keyKind
		collapsed bool
		err       string
	}{
		{"vLLM token ids", `{"choices":[{"logprobs":{"tokens":["token_id:432"],"top_logprobs":[{"token_id:432":-0.03,"token_id:383":-3.5}]}}]}`,
			[]remote.Cand{{ID: 432, LogProb: -0.03}, {ID: 383, LogProb: -3.5}}, keysIDs, false, ""},
		{"llama.cpp content", `{"choices":[{"logprobs":{"content":[{"id":432,"top_logprobs":[{"id":432,"token":",","logprob":-0.03},{"id":383,"token":" there","logprob":-3.5}]}]}}]}`,
			[]remote.Cand{{ID: 432, LogProb: -0.03}, {ID: 383, LogProb: -3.5}}, keysIDs, false, ""},
		{"text keys", `{"choices":[{"logprobs":{"tokens":[","],"top_logprobs":[{",":-0.03," there":-3.5}]}}]}`,
			[]remote.Cand{{ID: 432, LogProb: -0.03}, {ID: 383, LogProb: -3.5}}, keysText, false, ""},
		{"ambiguous text", `{"choices":[{"logprobs":{"top_logprobs":[{"a":-0.5}]}}]}`, []remote.Cand{{ID: 412, LogProb: -0.5}}, keysText, true, ""},
		{"replacement char", `{"choices":[{"logprobs":{"top_logprobs":[{",":-0.1,"\ufffd":-5}]}}]}`, []remote.Cand{{ID: 432, LogProb: -0.1}}, keysText, true, ""},
		{"bad token_id key", `{"choices":[{"logprobs":{"top_logprobs":[{"token_id:x":-0.5}]}}]}`, nil, 0, false, `key "token_id:x"`},
		{"null logprob", `{"choices":[{"logprobs":{"top_logprobs":[{",":null}]}}]}`, nil, 0, false, "is null"},
		{"no choices", `{"choices":[]}`, nil, 0, false, "no choices"},
		{"null top list", `{"choices":[{"logprobs":{"top_logprobs":[null]}}]}`, nil, 0, false, "no top_logprobs"},
		{"content without id", `{"choices":[{"logprobs":{"content":[{"top_logprobs":[{"token":",","logprob":-0.1}]}]}}]}`, nil, 0, false, "lacks an id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, kind, collapsed, err := parseAnswer([]byte(tc.body), v)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sortCands(got)
			sortCands(tc.want)
			if kind != tc.kind || collapsed != tc.collapsed || len(got) != len(tc.want) {
				t.Fatalf("got %v %v %v, want %v %v %v", got, kind, collapsed, tc.want, tc.kind, tc.collapsed)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("cand %d = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func sortCands(c []remote.Cand) {
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && c[j].ID < c[j-1].ID; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
}

// TestVocabMismatch gives the backend a vocabulary file that is not the
// served model's: a server that names candidates by id and text refuses
// it at New; a text-keyed server cannot tell, and the decoder refuses the
// pair before generating.
func TestVocabMismatch(t *testing.T) {
	other := testdata.Path(t, "tokenizer/ggml-vocab-llama-spm.gguf")
	rep := remotetest.Replay(t, recordings[0].file, nil)
	_, err := New(context.Background(), Options{BaseURL: rep.URL + "/v1", VocabFile: other, Retry: fastRetry})
	if err == nil || !strings.Contains(err.Error(), "does not match the served model's") {
		t.Fatalf("llama-server with another vocabulary: %v", err)
	}
	rep = remotetest.Replay(t, recordings[1].file, nil)
	b, err := New(context.Background(), Options{BaseURL: rep.URL + "/v1", VocabFile: other, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	router, _ := route.Parse("p:0.5")
	_, err = decode.New(context.Background(), decode.Config{Base: loadEngine(t), Aligned: b, Router: router})
	var mm *decode.VocabMismatchError
	if !errors.As(err, &mm) || mm.BaseSize != 512 || mm.AlignedSize != 32000 {
		t.Fatalf("decoder over a mismatched pair: %v", err)
	}
}
