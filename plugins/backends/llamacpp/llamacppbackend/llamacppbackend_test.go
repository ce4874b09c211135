package llamacppbackend

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestParseParams(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Params
		err  string
	}{
		{in: "http://127.0.0.1:8080", want: Params{URL: "http://127.0.0.1:8080"}},
		{in: ` {"url": "http://h:1", "vocab_file": "/m.gguf", "top_k": 8, "full_dist": true, "timeout": "5s", "retries": 2} `,
			want: Params{URL: "http://h:1", VocabFile: "/m.gguf", TopK: 8, FullDist: true, Timeout: "5s", Retries: 2}},
		{in: "", err: "no server"},
		{in: `{"top_k": 3}`, err: `"url" is required`},
		{in: `{"url": "http://h", "topk": 3}`, err: `unknown field "topk"`},
		{in: `{"url": "http://h", "top_k": -1}`, err: "must not be negative"},
		{in: `{"url": "http://h", "timeout": "soon"}`, err: `timeout "soon"`},
		{in: `{"url": "http://h"`, err: "parameters"},
	} {
		got, err := ParseParams(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseParams(%q): err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseParams(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestOptions(t *testing.T) {
	t.Setenv("BACO_TEST_LLAMA_KEY", "sekret")
	p, _ := ParseParams(`{"url": "http://h", "api_key_env": "BACO_TEST_LLAMA_KEY", "timeout": "5s", "retries": 2}`)
	o, err := p.Options(slog.Default())
	if err != nil || o.APIKey != "sekret" || o.Retry.Timeout != 5*time.Second || o.Retry.Attempts != 2 {
		t.Fatalf("options %+v, %v", o, err)
	}
	p.APIKeyEnv = "BACO_TEST_UNSET_KEY"
	if _, err := p.Options(slog.Default()); err == nil || !strings.Contains(err.Error(), "BACO_TEST_UNSET_KEY") {
		t.Errorf("unset key variable: %v", err)
	}
}
