package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestErrorResponses(t *testing.T) {
	url, _ := startServer(t, Config{MaxBodyBytes: 8 << 10}, storiesModels(t))
	long := "[" + strings.Repeat("403,", 600) + "1]" // 601 ids: beyond the 512-token context
	cases := []struct {
		name, method, path, body string
		status                   int
		param, code              string // "" for null
	}{
		{"malformed JSON", "POST", "/v1/completions", `{"model":"stories",`, 400, "", "invalid_json"},
		{"syntax error", "POST", "/v1/completions", `{bad}`, 400, "", "invalid_json"},
		{"not an object", "POST", "/v1/completions", `[1,2]`, 400, "", "invalid_json"},
		{"trailing data", "POST", "/v1/completions", `{"model":"stories","prompt":"x"} {}`, 400, "", "invalid_json"},
		{"empty body", "POST", "/v1/chat/completions", ``, 400, "", "invalid_json"},
		{"unknown model", "POST", "/v1/completions", `{"model":"gpt-4","prompt":"x"}`, 400, "model", "model_not_found"},
		{"no model", "POST", "/v1/completions", `{"prompt":"x"}`, 400, "model", ""},
		{"max_tokens < 0", "POST", "/v1/completions", `{"model":"stories","prompt":"x","max_tokens":-1}`, 400, "max_tokens", ""},
		{"chat max_tokens < 0", "POST", "/v1/chat/completions", `{"model":"stories","messages":[{"role":"user","content":"x"}],"max_tokens":-5}`, 400, "max_tokens", ""},
		{"prompt beyond context", "POST", "/v1/completions", `{"model":"stories","prompt":` + long + `}`, 400, "prompt", "context_length_exceeded"},
		{"text beyond context", "POST", "/v1/completions", `{"model":"stories-baco","prompt":"` + strings.Repeat("Once upon a time ", 200) + `"}`, 400, "prompt", "context_length_exceeded"},
		{"chat beyond context", "POST", "/v1/chat/completions", `{"model":"stories","messages":[{"role":"user","content":"` + strings.Repeat("Once upon a time ", 200) + `"}]}`, 400, "messages", "context_length_exceeded"},
		{"invalid rule", "POST", "/v1/completions", `{"model":"stories-baco","prompt":"x","baco":{"rule":"base.p1 <"}}`, 400, "baco", "invalid_router"},
		{"rule with unknown name", "POST", "/v1/completions", `{"model":"stories-baco","prompt":"x","baco":{"rule":"bse.p1 < 0.5"}}`, 400, "baco", "invalid_router"},
		{"unknown router", "POST", "/v1/completions", `{"model":"stories-baco","prompt":"x","baco":{"router":"nope"}}`, 400, "baco", "invalid_router"},
		{"router and rule", "POST", "/v1/completions", `{"model":"stories-baco","prompt":"x","baco":{"router":"base","rule":"0"}}`, 400, "baco", ""},
		{"vars without rule", "POST", "/v1/completions", `{"model":"stories-baco","prompt":"x","baco":{"vars":{"g":1}}}`, 400, "baco.vars", ""},
		{"temperature out of range", "POST", "/v1/completions", `{"model":"stories","prompt":"x","temperature":3}`, 400, "temperature", ""},
		{"temperature wrong type", "POST", "/v1/completions", `{"model":"stories","prompt":"x","temperature":"hot"}`, 400, "temperature", ""},
		{"top_p 0", "POST", "/v1/completions", `{"model":"stories","prompt":"x","top_p":0}`, 400, "top_p", ""},
		{"n 0", "POST", "/v1/completions", `{"model":"stories","prompt":"x","n":0}`, 400, "n", ""},
		{"n too large", "POST", "/v1/completions", `{"model":"stories","prompt":"x","n":1000}`, 400, "n", ""},
		{"token outside vocab", "POST", "/v1/completions", `{"model":"stories","prompt":[1,99999]}`, 400, "prompt", ""},
		{"negative token", "POST", "/v1/completions", `{"model":"stories","prompt":[1,-3]}`, 400, "prompt", ""},
		{"fractional token", "POST", "/v1/completions", `{"model":"stories","prompt":[1,2.5]}`, 400, "prompt", ""},
		{"empty prompt list", "POST", "/v1/completions", `{"model":"stories","prompt":[]}`, 400, "prompt", ""},
		{"empty token prompt", "POST", "/v1/completions", `{"model":"stories","prompt":[[]]}`, 400, "prompt", ""},
		{"prompt object", "POST", "/v1/completions", `{"model":"stories","prompt":{"a":1}}`, 400, "prompt", ""},
		{"logit_bias", "POST", "/v1/completions", `{"model":"stories","prompt":"x","logit_bias":{"5":1}}`, 400, "logit_bias", ""},
		{"presence_penalty", "POST", "/v1/completions", `{"model":"stories","prompt":"x","presence_penalty":0.5}`, 400, "presence_penalty", ""},
		{"empty stop", "POST", "/v1/completions", `{"model":"stories","prompt":"x","stop":[""]}`, 400, "stop", ""},
		{"logprobs too many", "POST", "/v1/completions", `{"model":"stories","prompt":"x","logprobs":50}`, 400, "logprobs", ""},
		{"echo with logprobs", "POST", "/v1/completions", `{"model":"stories","prompt":"x","echo":true,"logprobs":1}`, 400, "echo", ""},
		{"stream_options without stream", "POST", "/v1/completions", `{"model":"stories","prompt":"x","stream_options":{"include_usage":true}}`, 400, "stream_options", ""},
		{"no messages", "POST", "/v1/chat/completions", `{"model":"stories"}`, 400, "messages", ""},
		{"bad role", "POST", "/v1/chat/completions", `{"model":"stories","messages":[{"role":"tool","content":"x"}]}`, 400, "messages[0].role", ""},
		{"image part", "POST", "/v1/chat/completions", `{"model":"stories","messages":[{"role":"user","content":[{"type":"image_url"}]}]}`, 400, "content", ""},
		{"top_logprobs without logprobs", "POST", "/v1/chat/completions", `{"model":"stories","messages":[{"role":"user","content":"x"}],"top_logprobs":2}`, 400, "top_logprobs", ""},
		{"tools", "POST", "/v1/chat/completions", `{"model":"stories","messages":[{"role":"user","content":"x"}],"tools":[{}]}`, 400, "tools", ""},
		{"json mode", "POST", "/v1/chat/completions", `{"model":"stories","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}`, 400, "response_format", ""},
		{"base temperature out of range", "POST", "/v1/completions", `{"model":"stories","prompt":"x","baco":{"base_temperature":-1}}`, 400, "baco.base_temperature", ""},
		{"wrong method", "GET", "/v1/completions", ``, 405, "", "method_not_allowed"},
		{"unknown path", "GET", "/v2/nothing", ``, 404, "", "not_found"},
		{"unknown model id", "GET", "/v1/models/nope", ``, 404, "model", "model_not_found"},
		{"body too large", "POST", "/v1/completions", `{"model":"stories","prompt":"` + strings.Repeat("a", 9<<10) + `"}`, 413, "", "request_too_large"},
		{"llama n_predict", "POST", "/completion", `{"prompt":"x","n_predict":-2}`, 400, "n_predict", ""},
		{"llama grammar", "POST", "/completion", `{"prompt":"x","grammar":"root ::= \"a\""}`, 400, "grammar", ""},
		{"llama two prompts", "POST", "/completion", `{"prompt":["a",["b"]]}`, 400, "prompt", ""},
		{"llama pipeline", "POST", "/tokenize", `{"model":"stories-baco","content":"x"}`, 400, "model", ""},
		{"detokenize outside vocab", "POST", "/detokenize", `{"tokens":[5,512]}`, 400, "tokens", ""},
		{"detokenize wrong type", "POST", "/detokenize", `{"tokens":"abc"}`, 400, "tokens", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, url+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			// Exactly {"error": {message, type, param, code}}.
			var raw map[string]map[string]any
			if err := json.Unmarshal([]byte(body), &raw); err != nil || len(raw) != 1 || raw["error"] == nil {
				t.Fatalf("not an error object: %s", body)
			}
			e := raw["error"]
			for _, k := range []string{"message", "type", "param", "code"} {
				if _, ok := e[k]; !ok {
					t.Errorf("error object lacks %q: %s", k, body)
				}
			}
			if msg, _ := e["message"].(string); msg == "" {
				t.Errorf("empty message: %s", body)
			}
			if typ, _ := e["type"].(string); typ != "invalid_request_error" {
				t.Errorf("type %v", e["type"])
			}
			if got, _ := e["param"].(string); got != c.param {
				t.Errorf("param %v, want %q (%s)", e["param"], c.param, body)
			}
			if got, _ := e["code"].(string); got != c.code {
				t.Errorf("code %v, want %q (%s)", e["code"], c.code, body)
			}
		})
	}
}
