package remote

import (
	"fmt"
	"math"
	"sort"

	"github.com/baco-go/baco/core/dist"
)

// Cand is one candidate as a server returns it.
type Cand struct {
	// ID is the token id.
	ID int32
	// LogProb is its natural-log probability.
	LogProb float64
}

// logProbFloor: llama.cpp writes the lowest float (-3.4e38) for a
// probability that underflowed to 0, OpenAI-style servers -9999; anything
// at or below this reads as -Inf.
const logProbFloor = -1e30

// maxLogProb tolerates rounding above 0 (a log-probability of 1 computed
// in float32 can come out a hair positive).
const maxLogProb = 1e-3

// BuildDist turns the candidates a server returned into a Dist with k
// candidates in Top (pieces from pieces, which may be nil), sorted by
// decreasing log-probability and then increasing id.
//
// With full, cands must cover the whole vocabulary: Full is filled and the
// entropy is exact. Otherwise the entropy is estimated from the k
// candidates and the tail mass (dist.EstimateEntropy) and flagged.
//
// Errors: an id outside [0, vocab), an id twice, a log-probability that is
// NaN or above 0, fewer candidates than k (or than vocab with full).
func BuildDist(cands []Cand, k, vocab int, full bool, pieces []string) (dist.Dist, error) {
	want := min(k, vocab)
	if full {
		want = vocab
	}
	if len(cands) < want {
		return dist.Dist{}, fmt.Errorf("server returned %d candidates, asked for %d", len(cands), want)
	}
	seen := make(map[int32]struct{}, len(cands))
	top := make([]dist.Candidate, len(cands))
	for i, c := range cands {
		if c.ID < 0 || int(c.ID) >= vocab {
			return dist.Dist{}, fmt.Errorf("candidate %d: id %d outside the vocabulary [0, %d)", i, c.ID, vocab)
		}
		if _, dup := seen[c.ID]; dup {
			return dist.Dist{}, fmt.Errorf("candidate %d: id %d returned twice", i, c.ID)
		}
		seen[c.ID] = struct{}{}
		lp := c.LogProb
		switch {
		case math.IsNaN(lp) || lp > maxLogProb:
			return dist.Dist{}, fmt.Errorf("candidate %d (id %d): log-probability %v is not ≤ 0", i, c.ID, lp)
		case lp > 0:
			lp = 0
		case lp <= logProbFloor:
			lp = math.Inf(-1)
		}
		top[i] = dist.Candidate{ID: c.ID, LogProb: float32(lp)}
	}
	sort.SliceStable(top, func(i, j int) bool {
		if top[i].LogProb != top[j].LogProb {
			return top[i].LogProb > top[j].LogProb
		}
		return top[i].ID < top[j].ID
	})
	var d dist.Dist
	if full {
		d.Full = make([]float32, vocab)
		var h, mass float64
		for _, c := range top {
			d.Full[c.ID] = c.LogProb
			if p := math.Exp(float64(c.LogProb)); p > 0 {
				h -= p * float64(c.LogProb)
				mass += p
			}
		}
		if math.Abs(mass-1) > 1e-2 {
			return dist.Dist{}, fmt.Errorf("full distribution sums to %.4f, not 1", mass)
		}
		d.Entropy = h
	}
	if k > 0 && k < len(top) {
		top = top[:k]
	}
	for i := range top {
		if int(top[i].ID) < len(pieces) {
			top[i].Piece = pieces[top[i].ID]
		}
	}
	d.Top = top
	if full {
		var mass float64
		for _, c := range top {
			mass += math.Exp(float64(c.LogProb))
		}
		d.TailMass = math.Max(0, 1-mass)
		return d, nil
	}
	d.Entropy, d.TailMass = dist.EstimateEntropy(top)
	d.EntropyEstimated = true
	return d, nil
}
