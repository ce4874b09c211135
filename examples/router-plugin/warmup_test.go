package main

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/core/tokenclass"
	"github.com/baco-go/baco/sdk/plugintest"
)

// view is a step at pos whose base top-1 has probability p1 and class c.
func view(pos int, p1 float64, c tokenclass.Class) route.View {
	d := &dist.Dist{Top: []dist.Candidate{{ID: 5, LogProb: float32(math.Log(p1))}}, Entropy: 1}
	return route.View{Pos: pos, Base: d, BaseTop: route.Top{ID: 5, Class: c, WordStart: true}, AlignedTop: route.Top{ID: -1}}
}

func TestWarmup(t *testing.T) {
	tests := []struct {
		params string
		name   string
		views  []route.View
		want   []float64
	}{
		// Positions 0..2 are warm-up: aligned whatever p-punc says.
		{"3:0.5", "warmup:3:0.5",
			[]route.View{view(0, 0.1, tokenclass.Content), view(2, 0.1, tokenclass.Content), view(3, 0.1, tokenclass.Content),
				view(3, 0.9, tokenclass.Content), view(7, 0.1, tokenclass.Punct)},
			[]float64{0, 0, 1, 0, 0}},
		// γ defaults to 0.5; p1 0.4 < 0.5 goes to base after the warm-up.
		{"1", "warmup:1:0.5", []route.View{view(0, 0.4, tokenclass.Content), view(1, 0.4, tokenclass.Content)}, []float64{0, 1}},
		// N = 0 is plain p-punc.
		{"0:0.3", "warmup:0:0.3", []route.View{view(0, 0.2, tokenclass.Content), view(0, 0.4, tokenclass.Content)}, []float64{1, 0}},
	}
	for _, tt := range tests {
		r, err := New(tt.params)
		if err != nil {
			t.Fatal(err)
		}
		if r.Name() != tt.name || !r.Needs().Base {
			t.Errorf("%q: name %q needs %+v", tt.params, r.Name(), r.Needs())
		}
		out := make([]route.Decision, len(tt.views))
		if err := r.Decide(context.Background(), tt.views, out); err != nil {
			t.Fatal(err)
		}
		for i, w := range tt.want {
			if out[i].Weight != w {
				t.Errorf("%q view %d: weight %v, want %v", tt.params, i, out[i].Weight, w)
			}
		}
	}
	for _, bad := range []string{"", "x", "-1", "3:x", "3:1.5", "99999999"} {
		if _, err := New(bad); err == nil || !strings.Contains(err.Error(), "warmup") {
			t.Errorf("New(%q): %v, want an error", bad, err)
		}
	}
}

// TestConformance builds the plugin and runs baco's conformance suite
// against the binary, as CI does.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := plugintest.Build(t, "baco-router-warmup", ".")
	plugintest.RunRouter(t, bin, "4:0.3", plugintest.WithBadParams("x", "4:2"))
}
