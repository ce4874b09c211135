package oai

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestPromptShapes(t *testing.T) {
	cases := []struct {
		body string
		want Prompt
	}{
		{`"hi"`, Prompt{{Text: "hi"}}},
		{`["a","b"]`, Prompt{{Text: "a"}, {Text: "b"}}},
		{`[1,2,3]`, Prompt{{Tokens: []int32{1, 2, 3}, IsTokens: true}}},
		{`[[1],[2,3]]`, Prompt{{Tokens: []int32{1}, IsTokens: true}, {Tokens: []int32{2, 3}, IsTokens: true}}},
		{`[]`, Prompt{}},
		{`null`, nil},
	}
	for _, c := range cases {
		var p Prompt
		if err := p.UnmarshalJSON([]byte(c.body)); err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		if !reflect.DeepEqual(p, c.want) {
			t.Errorf("%s: %+v, want %+v", c.body, p, c.want)
		}
	}
	for _, bad := range []string{`{}`, `1`, `["a",1]`, `[1,"a"]`, `[[1],"a"]`, `[1.5]`, `[-1]`, `[2147483648]`, `true`} {
		var p Prompt
		if err := p.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("%s: accepted as %+v", bad, p)
		}
	}
}

func TestDecodeDefaultsAndOverrides(t *testing.T) {
	r, e := DecodeChatRequest([]byte(`{"model":"m","messages":[{"role":"developer","content":null},{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],
		"max_completion_tokens":7,"stop":"x","n":2,"seed":-1,"stream":true,"stream_options":{"include_usage":true},"response_format":{"type":"text"},"tools":null}`), Limits{})
	if e != nil {
		t.Fatal(e)
	}
	if r.Messages[0].Role != "system" || r.Messages[1].Content != "ab" || *r.MaxTokens != 7 || !reflect.DeepEqual([]string(r.Stop), []string{"x"}) ||
		r.NOrDefault() != 2 || *r.Seed != -1 || !r.StreamOptions.IncludeUsage {
		t.Fatalf("%+v", r)
	}
	if _, e := DecodeChatRequest([]byte(`{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":3,"max_completion_tokens":4}`), Limits{}); e == nil {
		t.Fatal("disagreeing max_tokens accepted")
	}
	if _, e := DecodeCompletionRequest([]byte(`{"model":"m","prompt":"x","n":5}`), Limits{MaxN: 4}); e == nil || *e.Param != "n" {
		t.Fatalf("n over the limit: %v", e)
	}
}

// checkDecoded holds for every request a decoder accepts, and every error
// it returns is a 400 with a message; it must never panic.
func checkDecoded(t *testing.T, c *Common, e *Error, lim Limits) {
	if e != nil {
		if e.Status != http.StatusBadRequest || e.Message == "" || e.Type != TypeInvalidRequest {
			t.Fatalf("bad error %+v", e)
		}
		return
	}
	lim = lim.withDefaults()
	switch {
	case strings.TrimSpace(c.Model) == "":
		t.Fatal("accepted without a model")
	case c.MaxTokens != nil && *c.MaxTokens < 0:
		t.Fatal("accepted max_tokens < 0")
	case c.NOrDefault() < 1 || c.NOrDefault() > lim.MaxN:
		t.Fatalf("accepted n %d", c.NOrDefault())
	case len(c.Stop) > lim.MaxStop:
		t.Fatal("accepted too many stops")
	case c.Temperature != nil && !(*c.Temperature >= 0 && *c.Temperature <= 2):
		t.Fatal("accepted a bad temperature")
	}
}

func FuzzDecodeCompletionRequest(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","prompt":"Once upon a time","max_tokens":16,"temperature":0}`,
		`{"model":"m","prompt":[1,403,407],"n":3,"seed":7,"stop":["a","b"],"logprobs":2,"stream":true}`,
		`{"model":"m","prompt":[[1],[2]],"baco":{"router":"p-punc","gamma":0.3,"vars":{"x":1}}}`,
		`{"model":"m","prompt":["a"],"echo":true,"best_of":1,"suffix":""}`,
		`{"model":"","prompt":null}`, `[]`, `{`, `{"prompt":{"a":[1,{"b":2}]}}`,
	} {
		f.Add([]byte(s))
	}
	lim := Limits{MaxN: 8}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, e := DecodeCompletionRequest(data, lim)
		if e == nil {
			if len(r.Prompt) == 0 || len(r.Prompt) > DefaultLimits().MaxPrompts {
				t.Fatalf("accepted %d prompts", len(r.Prompt))
			}
			checkDecoded(t, &r.Common, nil, lim)
			return
		}
		checkDecoded(t, nil, e, lim)
	})
}

func FuzzDecodeChatRequest(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":4}`,
		`{"model":"m","messages":[{"role":"system","content":[{"type":"text","text":"s"}]},{"role":"user","content":"u"}],"logprobs":true,"top_logprobs":3}`,
		`{"model":"m","messages":[{"role":"tool","content":"x"}],"tools":[]}`,
		`{"model":"m","messages":[],"response_format":{"type":"json_object"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, e := DecodeChatRequest(data, Limits{})
		if e == nil {
			if len(r.Messages) == 0 {
				t.Fatal("accepted no messages")
			}
			for _, m := range r.Messages {
				if m.Role != "system" && m.Role != "user" && m.Role != "assistant" {
					t.Fatalf("accepted role %q", m.Role)
				}
			}
			checkDecoded(t, &r.Common, nil, Limits{})
			return
		}
		checkDecoded(t, nil, e, Limits{})
	})
}
