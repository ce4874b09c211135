package pipeline

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/route"
)

func TestCheckEntropy(t *testing.T) {
	full := backend.Info{Name: "local", Caps: backend.Caps{FullDist: true}}
	topk := backend.Info{Name: "remote", Caps: backend.Caps{MaxTopK: 20}}
	mustRouter := func(s RouterSpec) route.Router {
		r, err := BuildRouter(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		name          string
		r             route.Router
		base, aligned backend.Info
		strict        bool
		wantErr       bool
		wantWarn      bool
	}{
		{"h over full", mustRouter(RouterSpec{Name: "h:2"}), full, full, true, false, false},
		{"h over top-k base", mustRouter(RouterSpec{Name: "h:2"}), topk, full, false, false, true},
		{"h over top-k base, strict", mustRouter(RouterSpec{Name: "h-punc:2"}), topk, full, true, true, false},
		{"h does not read aligned", mustRouter(RouterSpec{Name: "h-fc:2"}), full, topk, true, false, false},
		{"p reads no entropy", mustRouter(RouterSpec{Name: "p:0.5"}), topk, topk, true, false, false},
		{"rule reading aligned entropy", mustRouter(RouterSpec{Rule: `aligned.entropy > 1 ? "base" : "aligned"`}), full, topk, true, true, false},
		{"rule reading p1 only", mustRouter(RouterSpec{Rule: `base.p1 < 0.3`}), topk, topk, true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			err := CheckEntropy(tc.r, tc.base, tc.aligned, tc.strict, slog.New(slog.NewTextHandler(&logs, nil)))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil && (!errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), "remote")) {
				t.Fatalf("error %q should be a spec error naming the model", err)
			}
			if warned := strings.Contains(logs.String(), "estimated"); warned != tc.wantWarn {
				t.Fatalf("warned %v, want %v: %s", warned, tc.wantWarn, logs.String())
			}
		})
	}
}
