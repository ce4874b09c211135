package decode

import (
	"math"
	"sort"

	"github.com/baco-go/baco/core/dist"
)

// FloorLogProb stands for the log-probability of a token that a top-k
// distribution does not list (JSON has no -Inf).
const FloorLogProb = -9999.0

func floorLog(lp float64) float64 {
	if math.IsInf(lp, -1) || math.IsNaN(lp) || lp < FloorLogProb {
		return FloorLogProb
	}
	return lp
}

// singleLogprobs is the log-probability of id under d and d's k best tokens.
func singleLogprobs(d *dist.Dist, id int32, k int) (float64, []dist.Candidate) {
	lp := FloorLogProb
	if v, ok := d.LogProbOf(id); ok {
		lp = floorLog(float64(v))
	}
	if k <= 0 {
		return lp, nil
	}
	top := make([]dist.Candidate, min(k, len(d.Top)))
	copy(top, d.Top)
	return lp, top
}

// mixtureLogprobs is log(w·p_base + (1−w)·p_aligned) of id and the k best
// tokens of the mixture among the union of both models' top candidates.
func mixtureLogprobs(b, a *dist.Dist, w float64, id int32, k int) (float64, []dist.Candidate) {
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
	lp := floorLog(math.Log(prob(id)))
	if k <= 0 {
		return lp, nil
	}
	var cands []dist.Candidate
	seen := map[int32]bool{}
	for _, d := range []*dist.Dist{b, a} {
		for _, c := range d.Top {
			if !seen[c.ID] {
				seen[c.ID] = true
				cands = append(cands, dist.Candidate{ID: c.ID, Piece: c.Piece, LogProb: float32(floorLog(math.Log(prob(c.ID))))})
			}
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].LogProb != cands[j].LogProb {
			return cands[i].LogProb > cands[j].LogProb
		}
		return cands[i].ID < cands[j].ID
	})
	return lp, cands[:min(k, len(cands))]
}
