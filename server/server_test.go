package server

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/baco-go/baco/core/decode"
	"github.com/baco-go/baco/core/sample"
	"github.com/baco-go/baco/server/oai"
)

// llama2cGreedy is llama2.c's greedy continuation (64 tokens) of BOS +
// "Once upon a time" for stories260K (karpathy/llama2.c run.c @ 350e04fe,
// fp32), identical to llama.cpp c392e509's llama-simple.
const llama2cGreedy = ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily's mom said"

// storiesPrompt is BOS + "Once upon a time" in stories260K's vocabulary.
var storiesPrompt = []int32{1, 403, 407, 261, 378}

// llama2cFirstLogprobs are llama2.c's log-probabilities of the token after
// storiesPrompt, the five most likely first (float64 log-softmax of the
// fp32 logits; see engine/llama/stories_test.go).
var llama2cFirstLogprobs = []candidate{
	{432, -0.0317028}, {383, -3.5498426}, {322, -8.1214514}, {353, -8.2438135}, {323, -8.6968575},
}

func postJSON(t *testing.T, url, path, body string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Post(url+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return resp, readAll(t, resp)
}

func decodeInto[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return v
}

// sseEvents splits a server-sent event stream into its data payloads.
func sseEvents(t *testing.T, body string) []string {
	t.Helper()
	var evs []string
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			evs = append(evs, d)
		}
	}
	return evs
}

func TestGreedyCompletionMatchesLlama2c(t *testing.T) {
	url, _ := startServer(t, Config{}, storiesModels(t))
	// Both stories models are stories260K on both sides, so greedy text is
	// the reference whatever the router; only the sources differ.
	cases := []struct {
		name, body string
		source     string // every token's source, "" for a mix
	}{
		{"single", `{"model":"stories","prompt":"Once upon a time","temperature":0,"max_tokens":64}`, "aligned"},
		{"token prompt", `{"model":"stories","prompt":[1,403,407,261,378],"temperature":0,"max_tokens":64}`, "aligned"},
		{"pipeline", `{"model":"stories-baco","prompt":"Once upon a time","temperature":0,"max_tokens":64}`, ""},
		{"base router", `{"model":"stories-baco","prompt":"Once upon a time","temperature":0,"max_tokens":64,"baco":{"router":"base"}}`, "base"},
		{"mixture rule", `{"model":"stories-baco","prompt":"Once upon a time","temperature":0,"max_tokens":64,"baco":{"rule":"0.5"}}`, "mixed"},
		{"gamma", `{"model":"stories-baco","prompt":"Once upon a time","temperature":0,"max_tokens":64,"baco":{"gamma":0.99}}`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := postJSON(t, url, "/v1/completions", c.body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			r := decodeInto[oai.Completion](t, body)
			ch := r.Choices[0]
			if ch.Text != llama2cGreedy {
				t.Fatalf("text %q\nwant %q", ch.Text, llama2cGreedy)
			}
			if *ch.FinishReason != "length" || r.Usage.PromptTokens != 5 || r.Usage.CompletionTokens != 64 || r.Usage.TotalTokens != 69 {
				t.Fatalf("finish %s, usage %+v", *ch.FinishReason, *r.Usage)
			}
			var joined strings.Builder
			base := 0
			for _, tok := range ch.Baco.Tokens {
				joined.WriteString(tok.Text)
				if c.source != "" && tok.Source != c.source {
					t.Fatalf("token %+v: want source %s", tok, c.source)
				}
				if tok.Source == "base" {
					base++
				}
			}
			if joined.String() != ch.Text || len(ch.Baco.Tokens) != 64 {
				t.Fatalf("sources %d tokens spelling %q", len(ch.Baco.Tokens), joined.String())
			}
			if want := float64(base) / 64; *ch.Baco.BaseShare != want || *ch.Baco.BaseTokens != base {
				t.Fatalf("base share %v (%d tokens), want %v (%d)", *ch.Baco.BaseShare, *ch.Baco.BaseTokens, want, base)
			}
		})
	}
}

// TestGammaOverride checks that baco.gamma changes the pipeline router's
// γ: with p:γ (base iff base p1 < γ), γ = 0 never picks base and γ = 1.01
// is out of range.
func TestGammaOverride(t *testing.T) {
	url, _ := startServer(t, Config{}, storiesModels(t))
	resp, body := postJSON(t, url, "/v1/completions",
		`{"model":"stories-baco","prompt":"Once upon a time","temperature":0,"max_tokens":16,"baco":{"router":"p","gamma":0}}`)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if r := decodeInto[oai.Completion](t, body); *r.Choices[0].Baco.BaseTokens != 0 {
		t.Fatalf("p:0 emitted %d base tokens", *r.Choices[0].Baco.BaseTokens)
	}
	resp, body = postJSON(t, url, "/v1/completions", `{"model":"stories-baco","prompt":"x","baco":{"router":"p","gamma":1.5}}`)
	if resp.StatusCode != 400 || !strings.Contains(body, `"param":"baco"`) {
		t.Fatalf("γ 1.5: %d %s", resp.StatusCode, body)
	}
}

// TestServerMatchesDecoder compares sampled output (temperature 1, n = 3,
// stop strings) with the decoder's own Generate for the same request: the
// server must not change what the decoder produces, streamed or not.
func TestServerMatchesDecoder(t *testing.T) {
	models := storiesModels(t)
	url, _ := startServer(t, Config{}, models)
	d := models[1].Decoder // stories-baco, p-punc:0.5
	for _, stop := range [][]string{nil, {"irl"}, {" the", "."}, {"Lily", "x"}} {
		want, err := d.Generate(context.Background(), decode.Request{
			BasePrompt: storiesPrompt, AlignedPrompt: storiesPrompt, N: 3, Seed: 11, MaxTokens: 40, Stop: stop,
			BaseSampling: sample.Default(), AlignedSampling: sample.Default(),
		})
		if err != nil {
			t.Fatal(err)
		}
		stopJSON, _ := json.Marshal(stop)
		req := `{"model":"stories-baco","prompt":"Once upon a time","temperature":1,"max_tokens":40,"n":3,"seed":11,"stop":` + string(stopJSON)
		resp, body := postJSON(t, url, "/v1/completions", req+`}`)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		got := decodeInto[oai.Completion](t, body)
		_, sbody := postJSON(t, url, "/v1/completions", req+`,"stream":true}`)
		streamed := make([]string, 3)
		finish := make([]string, 3)
		evs := sseEvents(t, sbody)
		if evs[len(evs)-1] != "[DONE]" {
			t.Fatalf("stream does not end with [DONE]: %q", evs[len(evs)-1])
		}
		for _, ev := range evs[:len(evs)-1] {
			c := decodeInto[oai.Completion](t, ev)
			for _, ch := range c.Choices {
				streamed[ch.Index] += ch.Text
				if ch.FinishReason != nil {
					finish[ch.Index] = *ch.FinishReason
				}
			}
		}
		for i, s := range want.Samples {
			if got.Choices[i].Text != s.Text || *got.Choices[i].FinishReason != s.Finish {
				t.Errorf("stop %q sample %d: server %q (%s), decoder %q (%s)", stop, i, got.Choices[i].Text, *got.Choices[i].FinishReason, s.Text, s.Finish)
			}
			if streamed[i] != s.Text || finish[i] != s.Finish {
				t.Errorf("stop %q sample %d: streamed %q (%s), decoder %q (%s)", stop, i, streamed[i], finish[i], s.Text, s.Finish)
			}
			if *got.Choices[i].Baco.BaseShare != s.BaseShare() {
				t.Errorf("sample %d: base share %v, decoder %v", i, *got.Choices[i].Baco.BaseShare, s.BaseShare())
			}
		}
	}
}

func TestLogprobsMatchLlama2c(t *testing.T) {
	url, _ := startServer(t, Config{}, storiesModels(t))
	// A mixture of a model with itself is that model: the logprobs of the
	// mixed pipeline must equal the single model's.
	for _, body := range []string{
		`{"model":"stories","prompt":"Once upon a time","temperature":0,"max_tokens":2,"logprobs":5}`,
		`{"model":"stories-baco","prompt":"Once upon a time","temperature":0,"max_tokens":2,"logprobs":5,"baco":{"rule":"0.3"}}`,
		`{"model":"stories-baco","prompt":"Once upon a time","temperature":0,"max_tokens":2,"logprobs":5,"baco":{"router":"base"}}`,
	} {
		resp, out := postJSON(t, url, "/v1/completions", body)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, out)
		}
		r := decodeInto[oai.Completion](t, out)
		lp := r.Choices[0].Logprobs
		if len(lp.Tokens) != 2 || lp.Tokens[0] != "," || lp.TextOffset[1] != 1 {
			t.Fatalf("logprobs %+v", lp)
		}
		if math.Abs(lp.TokenLogprobs[0]-llama2cFirstLogprobs[0].LogProb) > 1e-4 {
			t.Errorf("%s: logprob of ',' %v, want %v", body, lp.TokenLogprobs[0], llama2cFirstLogprobs[0].LogProb)
		}
		if len(lp.TopLogprobs[0]) != 5 {
			t.Fatalf("top_logprobs %v", lp.TopLogprobs[0])
		}
		text := map[int32]string{432: ",", 383: " there", 322: " in"}
		for _, c := range llama2cFirstLogprobs[:3] {
			if got := lp.TopLogprobs[0][text[c.ID]]; math.Abs(got-c.LogProb) > 1e-4 {
				t.Errorf("%s: top logprob of %q %v, want %v", body, text[c.ID], got, c.LogProb)
			}
		}
	}
}

func TestChat(t *testing.T) {
	url, _ := startServer(t, Config{}, storiesModels(t))
	// stories260K has no chat template: the pipeline's Auto mode gives it
	// the plain text, so the reply is the reference continuation.
	resp, body := postJSON(t, url, "/v1/chat/completions",
		`{"model":"stories","messages":[{"role":"user","content":[{"type":"text","text":"Once upon "},{"type":"text","text":"a time"}]}],"temperature":0,"max_completion_tokens":64}`)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	r := decodeInto[oai.ChatCompletion](t, body)
	if r.Object != "chat.completion" || *r.Choices[0].Message.Content != llama2cGreedy || r.Choices[0].Message.Role != "assistant" {
		t.Fatalf("%+v", r.Choices[0].Message)
	}
	_, sbody := postJSON(t, url, "/v1/chat/completions",
		`{"model":"stories","messages":[{"role":"user","content":"Once upon a time"}],"temperature":0,"max_tokens":64,"stream":true,"stream_options":{"include_usage":true},"logprobs":true}`)
	var text strings.Builder
	var usage *oai.Usage
	var lps int
	evs := sseEvents(t, sbody)
	for _, ev := range evs[:len(evs)-1] {
		c := decodeInto[oai.ChatCompletion](t, ev)
		if c.Usage != nil {
			usage = c.Usage
		}
		for _, ch := range c.Choices {
			if ch.Delta.Content != nil {
				text.WriteString(*ch.Delta.Content)
			}
			if ch.Logprobs != nil {
				lps += len(ch.Logprobs.Content)
			}
		}
	}
	if text.String() != llama2cGreedy || usage == nil || *usage != (oai.Usage{PromptTokens: 5, CompletionTokens: 64, TotalTokens: 69}) || lps != 64 {
		t.Fatalf("streamed %q, usage %+v, %d logprobs", text.String(), usage, lps)
	}
}

func TestModels(t *testing.T) {
	url, _ := startServer(t, Config{}, storiesModels(t))
	resp, err := http.Get(url + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	l := decodeInto[oai.ModelList](t, readAll(t, resp))
	var ids []string
	for _, m := range l.Data {
		ids = append(ids, m.ID+":"+m.Baco.Router)
		if m.Baco.ContextLength != 512 || m.Baco.Base != "stories260K.gguf" {
			t.Errorf("%+v", m.Baco)
		}
	}
	if want := []string{"stories:aligned", "stories-baco:p-punc:0.5"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("models %v, want %v", ids, want)
	}
	resp, err = http.Get(url + "/v1/models/stories-baco")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	resp.Body.Close()
}

func TestLlamaCppEndpoints(t *testing.T) {
	url, _ := startServer(t, Config{}, storiesModels(t))
	cases := []struct{ path, body, want string }{
		{"/tokenize", `{"content":"Once upon a time","add_special":true}`, `{"tokens":[1,403,407,261,378]}`},
		// 'á' is not a stories260K token: SentencePiece's space prefix
		// "▁" (410), then byte tokens <0xC3> <0xA1>, whose pieces are not
		// UTF-8 and so are sent as bytes. (llama.cpp's README shows this
		// example without the 410; its c392e509 tokenizer vectors put the
		// prefix before byte-fallback text: "🚀" → 29871 243 162 157 131
		// for llama-spm.)
		{"/tokenize", `{"content":"á","with_pieces":true}`, `{"tokens":[{"id":410,"piece":" "},{"id":198,"piece":[195]},{"id":164,"piece":[161]}]}`},
		{"/tokenize", `{"content":"Once upon","with_pieces":true}`, `{"tokens":[{"id":403,"piece":" Once"},{"id":407,"piece":" upon"}]}`},
		{"/detokenize", `{"tokens":[403,407,261,378]}`, `{"content":" Once upon a time"}`},
	}
	for _, c := range cases {
		resp, body := postJSON(t, url, c.path, c.body)
		if resp.StatusCode != 200 || strings.TrimSpace(body) != c.want {
			t.Errorf("%s %s: %d %s, want %s", c.path, c.body, resp.StatusCode, body, c.want)
		}
	}
	type llamaResp struct {
		Content         string      `json:"content"`
		Stop            bool        `json:"stop"`
		StopType        string      `json:"stop_type"`
		StoppingWord    string      `json:"stopping_word"`
		TokensPredicted int         `json:"tokens_predicted"`
		TokensEvaluated int         `json:"tokens_evaluated"`
		Tokens          []int32     `json:"tokens"`
		Probs           []llamaProb `json:"completion_probabilities"`
	}
	for _, prompt := range []string{`"Once upon a time"`, `[1,403,407,261,378]`, `[1,403,"upon a time"]`} {
		resp, body := postJSON(t, url, "/completion", `{"prompt":`+prompt+`,"temperature":0,"n_predict":64,"n_probs":3,"return_tokens":true}`)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		r := decodeInto[llamaResp](t, body)
		if r.Content != llama2cGreedy || !r.Stop || r.StopType != "limit" || r.TokensPredicted != 64 || r.TokensEvaluated != 5 || len(r.Tokens) != 64 {
			t.Fatalf("prompt %s: %+v", prompt, r)
		}
		if len(r.Probs) != 64 || r.Probs[0].ID != 432 || math.Abs(r.Probs[0].Logprob-llama2cFirstLogprobs[0].LogProb) > 1e-4 ||
			len(r.Probs[0].TopLogprobs) != 3 || r.Probs[0].TopLogprobs[1].ID != 383 {
			t.Fatalf("probabilities %+v", r.Probs[:1])
		}
	}
	// Streamed: one event per token, then the final object; no [DONE].
	resp, body := postJSON(t, url, "/completion", `{"prompt":"Once upon a time","temperature":0,"n_predict":40,"stop":[" Lily"],"stream":true}`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	var text strings.Builder
	evs := sseEvents(t, body)
	for _, ev := range evs {
		text.WriteString(decodeInto[llamaResp](t, ev).Content)
	}
	last := decodeInto[llamaResp](t, evs[len(evs)-1])
	if text.String() != ", there was a little girl named" || !last.Stop || last.StopType != "word" || last.StoppingWord != " Lily" {
		t.Fatalf("streamed %q, last %+v", text.String(), last)
	}
	// The BACo pipeline is not a single model.
	resp, body = postJSON(t, url, "/completion", `{"model":"stories-baco","prompt":"x"}`)
	if resp.StatusCode != 400 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestAPIKeys(t *testing.T) {
	url, _ := startServer(t, Config{APIKeys: []string{"k1", "k2"}}, storiesModels(t))
	cases := []struct {
		path, auth string
		want       int
	}{
		{"/v1/models", "", 401},
		{"/v1/models", "Bearer nope", 401},
		{"/v1/models", "Basic k1", 401},
		{"/v1/models", "Bearer k1", 200},
		{"/v1/models", "Bearer k2", 200},
		{"/metrics", "", 401},
		{"/healthz", "", 200},
		{"/health", "", 200},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodGet, url+c.path, nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != c.want {
			t.Errorf("%s %q: %d %s, want %d", c.path, c.auth, resp.StatusCode, body, c.want)
		}
		if c.want == 401 && !strings.Contains(body, `"code":"invalid_api_key"`) {
			t.Errorf("%s: 401 body %s", c.path, body)
		}
	}
}

// TestMetrics checks the token counters against the usage of the requests
// made, and that the queue and latency series exist.
func TestMetrics(t *testing.T) {
	url, _ := startServer(t, Config{}, storiesModels(t))
	postJSON(t, url, "/v1/completions", `{"model":"stories","prompt":"Once upon a time","temperature":0,"max_tokens":7}`)
	postJSON(t, url, "/v1/completions", `{"model":"stories-baco","prompt":"Once upon a time","temperature":0,"max_tokens":9,"baco":{"router":"base"}}`)
	postJSON(t, url, "/v1/completions", `{"model":"nope","prompt":"x"}`)
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	for _, want := range []string{
		`baco_generated_tokens_total{model="stories",source="aligned"} 7`,
		`baco_generated_tokens_total{model="stories-baco",source="base"} 9`,
		`baco_generated_tokens_total{model="stories-baco",source="aligned"} 0`,
		`baco_prompt_tokens_total{model="stories"} 5`,
		`baco_http_requests_total{code="200",handler="/v1/completions"} 2`,
		`baco_http_requests_total{code="400",handler="/v1/completions"} 1`,
		`baco_queue_depth{model="stories"} 0`,
		`baco_step_seconds_count{model="stories"} 7`, // one batch step per token
		`baco_time_to_first_token_seconds_count{model="stories-baco"} 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %q\n%s", want, body)
		}
	}
	// The running-sequences gauge is the batcher's own count (its value
	// after a batch empties is the batcher's business).
	if !strings.Contains(body, `baco_running_sequences{model="stories-baco"} `) {
		t.Errorf("metrics lack baco_running_sequences")
	}
}
