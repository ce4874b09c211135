package openaibackend

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/baco-go/baco/backends/openai"
)

func TestParseParams(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Params
		err  string
	}{
		{in: `{"base_url": "http://h/v1", "model": "m", "vocab_file": "/v.gguf", "max_top_k": 5, "prompts": "text", "extra": {"top_k": 1}}`,
			want: Params{BaseURL: "http://h/v1", Model: "m", VocabFile: "/v.gguf", MaxTopK: 5, Prompts: "text", Extra: map[string]any{"top_k": float64(1)}}},
		{in: "http://h/v1", err: "must be a JSON object"},
		{in: `{"model": "m"}`, err: `"base_url" is required`},
		{in: `{"base_url": "http://h/v1", "maxtopk": 3}`, err: `unknown field "maxtopk"`},
		{in: `{"base_url": "http://h/v1", "context_len": -3}`, err: "must not be negative"},
		{in: `{"base_url": "http://h/v1", "timeout": "0s"}`, err: `timeout "0s"`},
	} {
		got, err := ParseParams(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseParams(%q): err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseParams(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestOptions(t *testing.T) {
	t.Setenv("BACO_TEST_OPENAI_KEY", "sk-test")
	p, _ := ParseParams(`{"base_url": "http://h/v1", "api_key_env": "BACO_TEST_OPENAI_KEY", "prompts": "tokens", "timeout": "2s"}`)
	o, err := p.Options(slog.Default())
	if err != nil || o.APIKey != "sk-test" || o.Prompts != openai.PromptTokens || o.Retry.Timeout != 2*time.Second {
		t.Fatalf("options %+v, %v", o, err)
	}
	p.APIKeyEnv = "BACO_TEST_UNSET_KEY"
	if _, err := p.Options(slog.Default()); err == nil {
		t.Error("unset key variable: no error")
	}
}
