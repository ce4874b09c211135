package ggufbackend

import (
	"strings"
	"testing"
)

func TestParseParams(t *testing.T) {
	tests := []struct {
		in      string
		want    Params
		wantErr string
	}{
		{"/m/a.gguf", Params{Model: "/m/a.gguf"}, ""},
		{"  /m/a.gguf\n", Params{Model: "/m/a.gguf"}, ""},
		{`{"model":"/m/a.gguf","context_len":256,"threads":2}`, Params{Model: "/m/a.gguf", ContextLen: 256, Threads: 2}, ""},
		{"", Params{}, "no model"},
		{`{"context_len":256}`, Params{}, `"model" is required`},
		{`{"model":"x","ctx":1}`, Params{}, "unknown field"},
		{`{"model":"x","threads":-1}`, Params{}, "must not be negative"},
		{`{"model":`, Params{}, "parameters"},
	}
	for _, tt := range tests {
		got, err := ParseParams(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseParams(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseParams(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if back, err := ParseParams(got.Encode()); err != nil || back != got {
			t.Errorf("Encode round trip of %+v: %+v, %v", got, back, err)
		}
	}
}
