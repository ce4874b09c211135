package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// The plugin-side handler writes what go-plugin's host parser reads:
// "@level" and "@message" keys, no timestamp it would fail to parse.
func TestLogHandlerFormat(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(NewLogHandler(&buf, slog.LevelDebug))
	l.Warn("disk almost full", "free", 12)
	l.Debug("detail")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), buf.String())
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	if m["@level"] != "warn" || m["@message"] != "disk almost full" || m["free"] != float64(12) {
		t.Errorf("record %v", m)
	}
	if _, ok := m["time"]; ok {
		t.Error("the record carries a time")
	}
	for lv, want := range map[slog.Level]string{LevelTrace: "trace", slog.LevelDebug: "debug", slog.LevelInfo: "info", slog.LevelWarn: "warn", slog.LevelError: "error"} {
		if got := hclogLevel(lv); got != want || hclog.LevelFromString(got) == hclog.NoLevel {
			t.Errorf("hclogLevel(%v) = %q, want %q", lv, got, want)
		}
	}
}

// recorder is a slog handler that keeps records.
type recorder struct {
	min   slog.Level
	attrs []slog.Attr
	recs  *[]slog.Record
}

func (r recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= r.min }
func (r recorder) Handle(_ context.Context, rec slog.Record) error {
	rec.AddAttrs(r.attrs...)
	*r.recs = append(*r.recs, rec)
	return nil
}
func (r recorder) WithAttrs(as []slog.Attr) slog.Handler {
	r.attrs = append(append([]slog.Attr(nil), r.attrs...), as...)
	return r
}
func (r recorder) WithGroup(string) slog.Handler { return r }

func TestHCLogger(t *testing.T) {
	var recs []slog.Record
	h := NewHCLogger(slog.New(recorder{min: slog.LevelInfo, recs: &recs}), "")
	if h.GetLevel() != hclog.Info || h.IsDebug() || !h.IsWarn() {
		t.Errorf("level %v debug %v warn %v", h.GetLevel(), h.IsDebug(), h.IsWarn())
	}
	n := h.Named("baco-router-x").With("pid", 7)
	n.Debug("dropped")
	n.Error("plugin process exited", "error", "signal: killed")
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	got := map[string]string{}
	r.Attrs(func(a slog.Attr) bool { got[a.Key] = a.Value.String(); return true })
	if r.Level != slog.LevelError || r.Message != "plugin process exited" || got["plugin"] != "baco-router-x" || got["pid"] != "7" || got["error"] != "signal: killed" {
		t.Errorf("record %v %q %v", r.Level, r.Message, got)
	}
	if n.Name() != "baco-router-x" || n.Named("y").Name() != "baco-router-x.y" || n.ResetNamed("z").Name() != "z" {
		t.Error("names")
	}
}

func TestDropTimestamp(t *testing.T) {
	for _, tc := range []struct{ in, want []any }{
		{[]any{"a", 1, "timestamp", "x", "b", 2}, []any{"a", 1, "b", 2}},
		{[]any{"timestamp", "x"}, []any{}},
		{[]any{"a", 1}, []any{"a", 1}},
		{nil, nil},
	} {
		got := dropTimestamp(tc.in)
		if len(got) != len(tc.want) {
			t.Fatalf("dropTimestamp(%v) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("dropTimestamp(%v) = %v, want %v", tc.in, got, tc.want)
			}
		}
	}
}
