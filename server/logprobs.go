package server

import (
	"context"
	"math"
	"sort"

	"github.com/baco-go/baco/core/decode"
	"github.com/baco-go/baco/core/dist"
	"github.com/baco-go/baco/core/route"
)

// tap wraps a request's router to see the distributions of every step, so
// that the token each sample emits at that step can be given its
// log-probability and alternatives (decode.Event carries only the
// emitting model's top-1 signal).
//
// Decide and the request's OnToken callback both run on the batcher's
// goroutine, one step after the other, so tap needs no lock: the
// distributions recorded by Decide are read by OnToken in the same step,
// before the next Step can replace them.
//
// tap asks for every distribution a sample could be emitted from, which
// may run a model the wrapped router alone would have left idle that step.
// That costs time, never changes the output: routing and sampling read the
// same distributions and random draws either way.
type tap struct {
	inner route.Router
	needs route.Needs
	last  []stepDists // by sample index
}

type stepDists struct {
	base, aligned       dist.Dist
	hasBase, hasAligned bool
}

func newTap(inner route.Router, n int) *tap {
	needs := inner.Needs()
	// The routers that always emit from one model need only that one;
	// any other may emit from either (or, through word gating, keep the
	// previous model), so both distributions must be at hand.
	switch {
	case inner.Name() == "aligned" && needs == (route.Needs{}):
		needs.Aligned = true
	case inner.Name() == "base" && needs == (route.Needs{}):
		needs.Base = true
	default:
		needs = route.Needs{Base: true, Aligned: true}
	}
	return &tap{inner: inner, needs: needs, last: make([]stepDists, n)}
}

// Name is the wrapped router's name.
func (t *tap) Name() string { return t.inner.Name() }

// Needs covers every model the sample may be emitted from.
func (t *tap) Needs() route.Needs { return t.needs }

// Decide records the views' distributions and defers to the wrapped router.
func (t *tap) Decide(ctx context.Context, views []route.View, out []route.Decision) error {
	for i := range views {
		v := &views[i]
		if v.Sample < 0 || v.Sample >= len(t.last) {
			continue
		}
		sd := &t.last[v.Sample]
		sd.hasBase, sd.hasAligned = v.Base != nil, v.Aligned != nil
		if v.Base != nil {
			sd.base = *v.Base
		}
		if v.Aligned != nil {
			sd.aligned = *v.Aligned
		}
	}
	return t.inner.Decide(ctx, views, out)
}

// candidate is one token with its log-probability.
type candidate struct {
	ID      int32
	LogProb float64
}

// tokenLogprob is the log-probability of an emitted token under the
// distribution it was drawn from (the emitting model's, or the mixture
// w·P_base + (1−w)·P_aligned), before temperature and truncation, with the
// top alternatives under the same distribution.
type tokenLogprob struct {
	LogProb float64
	Top     []candidate
}

// lookup computes the log-probability of ev's token and its k best
// alternatives; ok is false when the distribution was not recorded.
func (t *tap) lookup(ev *decode.Event, k int) (tokenLogprob, bool) {
	if ev.Sample < 0 || ev.Sample >= len(t.last) {
		return tokenLogprob{}, false
	}
	sd := &t.last[ev.Sample]
	switch ev.Source {
	case route.Base:
		if !sd.hasBase {
			return tokenLogprob{}, false
		}
		return single(&sd.base, ev.ID, k), true
	case route.Aligned:
		if !sd.hasAligned {
			return tokenLogprob{}, false
		}
		return single(&sd.aligned, ev.ID, k), true
	}
	if !sd.hasBase || !sd.hasAligned {
		return tokenLogprob{}, false
	}
	return mixture(&sd.base, &sd.aligned, ev.Weight, ev.ID, k), true
}

// floorLogProb stands for the log-probability of a token a top-k
// distribution does not list (JSON has no -Inf).
const floorLogProb = -9999.0

func single(d *dist.Dist, id int32, k int) tokenLogprob {
	out := tokenLogprob{LogProb: floorLogProb}
	if lp, ok := d.LogProbOf(id); ok && !math.IsInf(float64(lp), -1) {
		out.LogProb = float64(lp)
	}
	for i := 0; i < k && i < len(d.Top); i++ {
		out.Top = append(out.Top, candidate{ID: d.Top[i].ID, LogProb: float64(d.Top[i].LogProb)})
	}
	return out
}

// mixture computes log(w·p_base + (1−w)·p_aligned) of id and the k best
// tokens of the mixture among the union of both models' top candidates.
func mixture(b, a *dist.Dist, w float64, id int32, k int) tokenLogprob {
	prob := func(id int32) float64 {
		var p float64
		if lp, ok := b.LogProbOf(id); ok {
			p += w * math.Exp(float64(lp))
		}
		if lp, ok := a.LogProbOf(id); ok {
			p += (1 - w) * math.Exp(float64(lp))
		}
		return p
	}
	logOf := func(p float64) float64 {
		if p <= 0 {
			return floorLogProb
		}
		return math.Log(p)
	}
	out := tokenLogprob{LogProb: logOf(prob(id))}
	if k == 0 {
		return out
	}
	seen := map[int32]bool{}
	var cands []candidate
	for _, d := range []*dist.Dist{b, a} {
		for _, c := range d.Top {
			if !seen[c.ID] {
				seen[c.ID] = true
				cands = append(cands, candidate{ID: c.ID, LogProb: logOf(prob(c.ID))})
			}
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].LogProb != cands[j].LogProb {
			return cands[i].LogProb > cands[j].LogProb
		}
		return cands[i].ID < cands[j].ID
	})
	if len(cands) > k {
		cands = cands[:k]
	}
	out.Top = cands
	return out
}
