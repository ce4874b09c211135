package server

import (
	"github.com/baco-go/baco/core/decode"
)

// floorLogProb stands for the log-probability of a token a top-k
// distribution does not list (JSON has no -Inf).
const floorLogProb = decode.FloorLogProb

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

// eventLogprob reads the log-probabilities the decoder recorded for ev
// (core/decode computes them from the distribution the token was drawn
// from, so no extra model run is needed).
func eventLogprob(ev *decode.Event) *tokenLogprob {
	lp := &tokenLogprob{LogProb: ev.LogProb}
	for _, c := range ev.Top {
		lp.Top = append(lp.Top, candidate{ID: c.ID, LogProb: float64(c.LogProb)})
	}
	return lp
}
