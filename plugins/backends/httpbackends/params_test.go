package httpbackends

import (
	"strings"
	"testing"
	"time"
)

func TestParseLlamaCpp(t *testing.T) {
	t.Setenv("BACO_TEST_KEY", "sekret")
	tests := []struct {
		in      string
		check   func(t *testing.T, url, key string, wait time.Duration, full bool)
		wantErr string
	}{
		{in: "http://127.0.0.1:8080", check: func(t *testing.T, url, key string, _ time.Duration, _ bool) {
			if url != "http://127.0.0.1:8080" || key != "" {
				t.Errorf("url %q key %q", url, key)
			}
		}},
		{in: `{"url":"http://h:1","api_key_env":"BACO_TEST_KEY","full_dist":true,"load_wait":"5m"}`,
			check: func(t *testing.T, url, key string, wait time.Duration, full bool) {
				if url != "http://h:1" || key != "sekret" || wait != 5*time.Minute || !full {
					t.Errorf("url %q key %q wait %v full %v", url, key, wait, full)
				}
			}},
		{in: "", wantErr: "no server"},
		{in: `{"top_k":5}`, wantErr: `"url" is required`},
		{in: `{"url":"x","apikey":"k"}`, wantErr: "unknown field"},
		{in: `{"url":"x","api_key_env":"BACO_TEST_UNSET_VAR"}`, wantErr: "not set"},
		{in: `{"url":"x","load_wait":"soon"}`, wantErr: "load_wait"},
	}
	for _, tt := range tests {
		o, err := ParseLlamaCpp(tt.in, nil)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseLlamaCpp(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ParseLlamaCpp(%q): %v", tt.in, err)
		}
		tt.check(t, o.URL, o.APIKey, o.LoadWait, o.FullDist)
	}
}

func TestParseOpenAI(t *testing.T) {
	o, err := ParseOpenAI(`{"base_url":"http://h/v1","model":"m","prompts":"tokens","extra":{"top_k":1},"max_top_k":5}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.BaseURL != "http://h/v1" || o.Model != "m" || o.Prompts != "tokens" || o.MaxTopK != 5 || o.Extra["top_k"] != float64(1) {
		t.Errorf("options %+v", o)
	}
	if o, err := ParseOpenAI("http://h/v1", nil); err != nil || o.BaseURL != "http://h/v1" {
		t.Errorf("bare URL: %+v, %v", o, err)
	}
	for in, want := range map[string]string{
		`{"model":"m"}`:                    `"base_url" is required`,
		`{"base_url":"x","prompts":"ids"}`: "prompts",
		`{"base_url":"x","nope":1}`:        "unknown field",
	} {
		if _, err := ParseOpenAI(in, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseOpenAI(%q) err = %v, want %q", in, err, want)
		}
	}
}
