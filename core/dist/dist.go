// Package dist defines the next-token distribution a backend returns for one
// position, and the numeric helpers (log-softmax, entropy, top-k) the rest of
// the core uses on it.
package dist

import (
	"math"
	"sort"
)

// Dist is one model's next-token distribution at one position.
//
// Top holds the k most likely tokens, sorted by decreasing log-probability
// (ties broken by increasing id). When the backend can afford it, Full holds
// the log-probability of every id in the vocabulary (len(Full) == vocab size);
// remote backends that only return top-k leave Full nil and report the
// probability mass outside Top in TailMass.
type Dist struct {
	// Top is the top-k candidates, most likely first.
	Top []Candidate
	// Full is the log-probability of every vocabulary id, or nil when the
	// backend returned only the top-k candidates.
	Full []float32
	// Entropy is the Shannon entropy of the distribution in nats.
	Entropy float64
	// EntropyEstimated is true when Entropy was estimated from Top plus the
	// tail mass instead of computed over the full vocabulary.
	EntropyEstimated bool
	// TailMass is the probability mass not covered by Top (0 when Full is set
	// and Top is derived from it; the value is still meaningful then).
	TailMass float64
}

// Candidate is one token of a distribution.
type Candidate struct {
	// ID is the token id.
	ID int32
	// LogProb is the natural-log probability of ID.
	LogProb float32
	// Piece is the token's vocabulary piece (may be empty when unknown).
	Piece string
}

// P1 is the probability of the most likely token (0 for an empty Dist).
func (d *Dist) P1() float64 {
	if len(d.Top) == 0 {
		return 0
	}
	return math.Exp(float64(d.Top[0].LogProb))
}

// Margin is the difference between the top-1 and top-2 probabilities.
func (d *Dist) Margin() float64 {
	switch len(d.Top) {
	case 0:
		return 0
	case 1:
		return d.P1()
	}
	return d.P1() - math.Exp(float64(d.Top[1].LogProb))
}

// TopID is the id of the most likely token, or -1 for an empty Dist.
func (d *Dist) TopID() int32 {
	if len(d.Top) == 0 {
		return -1
	}
	return d.Top[0].ID
}

// LogProbOf returns the log-probability of id, and false when the
// distribution does not know it (a top-k Dist that does not contain id).
func (d *Dist) LogProbOf(id int32) (float32, bool) {
	if d.Full != nil {
		if id < 0 || int(id) >= len(d.Full) {
			return 0, false
		}
		return d.Full[id], true
	}
	for _, c := range d.Top {
		if c.ID == id {
			return c.LogProb, true
		}
	}
	return 0, false
}

// LogSoftmax writes the log-softmax of logits into out (which may alias
// logits) and returns the entropy of the resulting distribution in nats.
// It is numerically stable for any finite logits; -Inf logits get -Inf.
// One exponential per entry: with e_i = exp(v_i − max) and S = Σ e_i,
// log p_i = v_i − max − log S and H = log S − (1/S) Σ e_i (v_i − max).
func LogSoftmax(out, logits []float32) float64 {
	maxv := float32(math.Inf(-1))
	for _, v := range logits {
		if v > maxv {
			maxv = v
		}
	}
	var sum, dot float64
	for _, v := range logits {
		d := float64(v - maxv)
		e := math.Exp(d)
		sum += e
		if e > 0 {
			dot += e * d
		}
	}
	logSum := math.Log(sum)
	lse := float64(maxv) + logSum
	for i, v := range logits {
		out[i] = float32(float64(v) - lse)
	}
	return logSum - dot/sum
}

// FromLogits builds a Dist from raw logits: the full log-softmax, the exact
// entropy and the top-k candidates (k <= 0 or k > len means all). The logits
// slice is not kept; Full is a new slice.
func FromLogits(logits []float32, k int) Dist {
	full := make([]float32, len(logits))
	h := LogSoftmax(full, logits)
	d := Dist{Full: full, Entropy: h}
	d.Top = TopK(full, k)
	var mass float64
	for _, c := range d.Top {
		mass += math.Exp(float64(c.LogProb))
	}
	d.TailMass = math.Max(0, 1-mass)
	return d
}

// TopK returns the k highest entries of logprobs as candidates sorted by
// decreasing log-probability, ties by increasing id. k <= 0 means all.
func TopK(logprobs []float32, k int) []Candidate {
	n := len(logprobs)
	if k <= 0 || k > n {
		k = n
	}
	less := func(a, b Candidate) bool { // a ranks before b
		if a.LogProb != b.LogProb {
			return a.LogProb > b.LogProb
		}
		return a.ID < b.ID
	}
	if k == n {
		out := make([]Candidate, n)
		for i, v := range logprobs {
			out[i] = Candidate{ID: int32(i), LogProb: v}
		}
		sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
		return out
	}
	// Partial selection: keep a sorted buffer of size k (k is small in practice).
	out := make([]Candidate, 0, k)
	for i, v := range logprobs {
		c := Candidate{ID: int32(i), LogProb: v}
		if len(out) == k && !less(c, out[k-1]) {
			continue
		}
		j := sort.Search(len(out), func(j int) bool { return less(c, out[j]) })
		if len(out) < k {
			out = append(out, Candidate{})
		}
		copy(out[j+1:], out[j:len(out)-1])
		out[j] = c
	}
	return out
}

// EstimateEntropy estimates the entropy in nats of a distribution known only
// through its top candidates: the known terms plus the tail mass spread as if
// it were one more outcome (a lower bound on the true tail contribution).
func EstimateEntropy(top []Candidate) (h, tail float64) {
	var mass float64
	for _, c := range top {
		p := math.Exp(float64(c.LogProb))
		mass += p
		if p > 0 {
			h -= p * float64(c.LogProb)
		}
	}
	tail = math.Max(0, 1-mass)
	if tail > 0 {
		h -= tail * math.Log(tail)
	}
	return h, tail
}
