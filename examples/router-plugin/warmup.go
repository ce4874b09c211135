package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/baco-go/baco/core/route"
)

// DefaultGamma is the p-punc γ used after the warm-up when the parameters
// give none.
const DefaultGamma = 0.5

// maxWarmup bounds N so a typo cannot silently disable routing forever.
const maxWarmup = 1 << 20

// warmup routes the first N tokens of every sample to the aligned model
// (so the response starts the way the aligned model would start it), then
// follows the paper's p-punc rule.
type warmup struct {
	n     int
	after route.Router
	name  string
}

// New builds a warmup router from its parameter string "N" or "N:γ", e.g.
// "8" (γ = 0.5) or "8:0.3".
func New(params string) (route.Router, error) {
	ns, gs, hasG := strings.Cut(strings.TrimSpace(params), ":")
	n, err := strconv.Atoi(strings.TrimSpace(ns))
	if err != nil || n < 0 || n > maxWarmup {
		return nil, fmt.Errorf("warmup %q: want \"N\" or \"N:γ\" with N a token count in 0..%d, e.g. \"8:0.3\"", params, maxWarmup)
	}
	g := DefaultGamma
	if hasG {
		if g, err = strconv.ParseFloat(strings.TrimSpace(gs), 64); err != nil {
			return nil, fmt.Errorf("warmup %q: γ %q is not a number", params, gs)
		}
	}
	after, err := route.New("p-punc", g)
	if err != nil {
		return nil, fmt.Errorf("warmup %q: %w", params, err)
	}
	return &warmup{n: n, after: after, name: fmt.Sprintf("warmup:%d:%g", n, g)}, nil
}

// Name implements route.Router.
func (w *warmup) Name() string { return w.name }

// Needs implements route.Router: p-punc reads the base distribution.
func (w *warmup) Needs() route.Needs { return w.after.Needs() }

// Decide implements route.Router. Views of one batch may be at different
// positions, so the warm-up is decided per view.
func (w *warmup) Decide(ctx context.Context, views []route.View, out []route.Decision) error {
	if err := w.after.Decide(ctx, views, out); err != nil {
		return err
	}
	for i := range views {
		if views[i].Pos < w.n {
			out[i] = route.Decision{Weight: 0}
		}
	}
	return nil
}
