package sample

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/baco-go/baco/core/dist"
)

// Params are one model's sampling settings.
//
// The zero value is not valid (TopP must be in (0,1]); start from Greedy or
// Default. Truncation follows llama.cpp's default sampler chain:
//
//  1. top-k: keep the TopK most likely tokens (0: off);
//  2. top-p: renormalise over what is left and keep the smallest set of most
//     likely tokens whose probability sums to at least TopP (1: off);
//  3. min-p: keep tokens whose probability is at least MinP times the most
//     likely token's (0: off);
//  4. temperature: p_i ∝ exp(log p_i / Temperature) over the survivors.
//
// Temperature 0 is greedy decoding: the most likely token, ties going to the
// lowest id (truncation cannot change the argmax, so it is skipped).
type Params struct {
	// Temperature ≥ 0; 0 is greedy.
	Temperature float64
	// TopP in (0,1]; 1 turns top-p off.
	TopP float64
	// MinP in [0,1); 0 turns min-p off.
	MinP float64
	// TopK ≥ 0; 0 turns top-k off.
	TopK int
}

// Greedy returns parameters for greedy decoding.
func Greedy() Params { return Params{Temperature: 0, TopP: 1} }

// Default returns plain sampling at temperature 1 with no truncation.
func Default() Params { return Params{Temperature: 1, TopP: 1} }

// Validate reports the first out-of-range field.
func (p Params) Validate() error {
	switch {
	case !(p.Temperature >= 0) || math.IsInf(p.Temperature, 1):
		return fmt.Errorf("sample: temperature %v must be a finite number ≥ 0 (0 is greedy)", p.Temperature)
	case !(p.TopP > 0 && p.TopP <= 1):
		return fmt.Errorf("sample: top_p %v must be in (0, 1] (1 turns it off)", p.TopP)
	case !(p.MinP >= 0 && p.MinP < 1):
		return fmt.Errorf("sample: min_p %v must be in [0, 1) (0 turns it off)", p.MinP)
	case p.TopK < 0:
		return fmt.Errorf("sample: top_k %d must be ≥ 0 (0 turns it off)", p.TopK)
	}
	return nil
}

// Prob is one token of a sampling distribution.
type Prob struct {
	// ID is the token id.
	ID int32
	// P is its probability.
	P float64
}

// Sampler draws tokens. It keeps scratch buffers between calls, so a
// Sampler must not be used by two goroutines at once; use one per decoding
// goroutine. The zero value is ready to use.
type Sampler struct {
	a, b []Prob // candidate buffers: one per model for mixtures
	heap []Prob // top-k selection buffer
	mix  []Prob // merged mixture (MixtureProbs only)
}

// Errors wrapped by the sampler's error messages.
var (
	// ErrEmptyDist is returned for a distribution without candidates.
	ErrEmptyDist = errors.New("distribution has no candidates")
	// ErrBadDist is returned for a distribution holding NaN or +Inf
	// log-probabilities or negative ids.
	ErrBadDist = errors.New("malformed distribution")
)

// Probs returns the distribution Sample draws from: d (Full when set, else Top
// renormalised) after truncation and temperature (see Params), normalised to
// sum to 1. The order of the result is deterministic but unspecified. The
// slice is owned by the Sampler and valid until its next call.
func (s *Sampler) Probs(d *dist.Dist, p Params) ([]Prob, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	out, err := s.prepare(d, p, &s.a)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Sample draws a token from d under p, using the uniform draw u ∈ [0,1) (the
// caller owns the random stream, see NewRNG). It does not allocate once its
// buffers have grown to the vocabulary size.
func (s *Sampler) Sample(d *dist.Dist, p Params, u float64) (int32, error) {
	if err := p.Validate(); err != nil {
		return -1, err
	}
	if !(u >= 0 && u < 1) {
		return -1, fmt.Errorf("sample: uniform draw %v outside [0, 1)", u)
	}
	probs, err := s.prepare(d, p, &s.a)
	if err != nil {
		return -1, err
	}
	return draw(probs, nil, 1, u), nil
}

// SampleMixture draws a token from w·P'_base + (1−w)·P'_aligned, where P' is
// each model's distribution after its own truncation and temperature (pb for
// base, pa for aligned; see Probs). The mixture lives on the union of both
// supports: a token kept by only one model gets only that model's share.
// w = 1 samples base alone and w = 0 aligned alone; the unused distribution
// may then be nil. Greedy parameters make that model's P' a point mass on its
// argmax.
func (s *Sampler) SampleMixture(base, aligned *dist.Dist, w float64, pb, pa Params, u float64) (int32, error) {
	if !(u >= 0 && u < 1) {
		return -1, fmt.Errorf("sample: uniform draw %v outside [0, 1)", u)
	}
	a, b, err := s.mixtureParts(base, aligned, w, pb, pa)
	if err != nil {
		return -1, err
	}
	return draw(a, b, w, u), nil
}

// MixtureProbs returns the mixture SampleMixture draws from, one entry per
// token of the union of both supports, sorted by id. The slice is owned by
// the Sampler and valid until its next call.
func (s *Sampler) MixtureProbs(base, aligned *dist.Dist, w float64, pb, pa Params) ([]Prob, error) {
	a, b, err := s.mixtureParts(base, aligned, w, pb, pa)
	if err != nil {
		return nil, err
	}
	byID := func(x, y Prob) int { return cmp.Compare(x.ID, y.ID) }
	slices.SortFunc(a, byID)
	slices.SortFunc(b, byID)
	m := s.mix[:0]
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].ID < b[j].ID):
			m = append(m, Prob{a[i].ID, w * a[i].P})
			i++
		case i == len(a) || b[j].ID < a[i].ID:
			m = append(m, Prob{b[j].ID, (1 - w) * b[j].P})
			j++
		default:
			m = append(m, Prob{a[i].ID, w*a[i].P + (1-w)*b[j].P})
			i++
			j++
		}
	}
	s.mix = m
	return m, nil
}

// mixtureParts validates a mixture and prepares both parts (a part whose
// weight is 0 is left empty).
func (s *Sampler) mixtureParts(base, aligned *dist.Dist, w float64, pb, pa Params) (a, b []Prob, err error) {
	if !(w >= 0 && w <= 1) {
		return nil, nil, fmt.Errorf("sample: mixture weight %v outside [0, 1]", w)
	}
	if w > 0 {
		if err := pb.Validate(); err != nil {
			return nil, nil, fmt.Errorf("base: %w", err)
		}
		if a, err = s.prepare(base, pb, &s.a); err != nil {
			return nil, nil, fmt.Errorf("base: %w", err)
		}
	} else {
		a = s.a[:0]
	}
	if w < 1 {
		if err := pa.Validate(); err != nil {
			return nil, nil, fmt.Errorf("aligned: %w", err)
		}
		if b, err = s.prepare(aligned, pa, &s.b); err != nil {
			return nil, nil, fmt.Errorf("aligned: %w", err)
		}
	} else {
		b = s.b[:0]
	}
	return a, b, nil
}

// draw picks the entry where the cumulative mass of wa·a followed by
// (1−wa)·b first exceeds u; each part sums to 1. Drawing from the
// concatenation samples the mixture exactly (a token's probability is the sum
// of its entries), without merging the two supports.
func draw(a, b []Prob, wa, u float64) int32 {
	var cum float64
	last := int32(-1)
	if wa > 0 {
		for _, c := range a {
			if c.P <= 0 {
				continue
			}
			cum += wa * c.P
			last = c.ID
			if u < cum {
				return c.ID
			}
		}
	}
	if wb := 1 - wa; wb > 0 {
		for _, c := range b {
			if c.P <= 0 {
				continue
			}
			cum += wb * c.P
			last = c.ID
			if u < cum {
				return c.ID
			}
		}
	}
	// Rounding left u above the total: the last token with mass.
	return last
}

// prepare loads d into *buf as log-probabilities, applies p and converts the
// survivors to normalised probabilities.
func (s *Sampler) prepare(d *dist.Dist, p Params, buf *[]Prob) ([]Prob, error) {
	if d == nil {
		return nil, fmt.Errorf("sample: %w (nil)", ErrEmptyDist)
	}
	if p.Temperature == 0 {
		best, err := argmax(d)
		if err != nil {
			return nil, err
		}
		*buf = append((*buf)[:0], best)
		return *buf, nil
	}
	c, err := load(d, (*buf)[:0])
	*buf = c[:0]
	if err != nil {
		return nil, err
	}
	if p.TopK > 0 && p.TopK < len(c) {
		c = s.topK(c, p.TopK)
	}
	maxLP := c[0].P
	for _, x := range c[1:] {
		maxLP = max(maxLP, x.P)
	}
	if p.TopP < 1 {
		c = topP(c, maxLP, p.TopP)
	}
	if p.MinP > 0 {
		cut := maxLP + math.Log(p.MinP)
		n := 0
		for _, x := range c {
			if x.P >= cut {
				c[n] = x
				n++
			}
		}
		c = c[:n]
	}
	// Temperature and normalisation.
	var z float64
	invT := 1 / p.Temperature
	for i := range c {
		e := 1.0 // the most likely token; also avoids 0·Inf for tiny T
		if d := c[i].P - maxLP; d != 0 {
			e = math.Exp(d * invT)
		}
		c[i].P = e
		z += e
	}
	for i := range c {
		c[i].P /= z
	}
	return c, nil
}

// load copies the candidates of d with finite log-probabilities into buf
// (P holds the log-probability).
func load(d *dist.Dist, buf []Prob) ([]Prob, error) {
	if d.Full != nil {
		buf = slices.Grow(buf, len(d.Full))
		for id, lp := range d.Full {
			if lp != lp || lp > math.MaxFloat32 {
				return buf, fmt.Errorf("sample: %w: log-probability %v at id %d", ErrBadDist, lp, id)
			}
			if lp < -math.MaxFloat32 {
				continue // -Inf: impossible token
			}
			buf = append(buf, Prob{ID: int32(id), P: float64(lp)})
		}
	} else {
		buf = slices.Grow(buf, len(d.Top))
		for _, t := range d.Top {
			lp := t.LogProb
			if lp != lp || lp > math.MaxFloat32 || t.ID < 0 {
				return buf, fmt.Errorf("sample: %w: candidate id %d log-probability %v", ErrBadDist, t.ID, lp)
			}
			if lp < -math.MaxFloat32 {
				continue
			}
			buf = append(buf, Prob{ID: t.ID, P: float64(lp)})
		}
	}
	if len(buf) == 0 {
		return buf, fmt.Errorf("sample: %w", ErrEmptyDist)
	}
	return buf, nil
}

// argmax returns the most likely token of d (ties: lowest id) with P 1,
// checking the distribution as load does.
func argmax(d *dist.Dist) (Prob, error) {
	best := Prob{ID: -1, P: math.Inf(-1)}
	if d.Full != nil {
		bestLP := float32(math.Inf(-1))
		for id, lp := range d.Full {
			if lp != lp || lp > math.MaxFloat32 {
				return Prob{}, fmt.Errorf("sample: %w: log-probability %v at id %d", ErrBadDist, lp, id)
			}
			if lp > bestLP { // strict: the first (lowest) id wins ties
				bestLP, best.ID = lp, int32(id)
			}
		}
	} else {
		for _, t := range d.Top {
			lp := float64(t.LogProb)
			if lp != lp || lp > math.MaxFloat32 || t.ID < 0 {
				return Prob{}, fmt.Errorf("sample: %w: candidate id %d log-probability %v", ErrBadDist, t.ID, lp)
			}
			if lp > -math.MaxFloat32 && (lp > best.P || (lp == best.P && t.ID < best.ID)) {
				best = Prob{ID: t.ID, P: lp}
			}
		}
	}
	if best.ID < 0 {
		return Prob{}, fmt.Errorf("sample: %w", ErrEmptyDist)
	}
	return Prob{ID: best.ID, P: 1}, nil
}

// better ranks candidates holding log-probabilities: higher first, ties by
// lower id.
func better(x, y Prob) bool {
	if x.P != y.P {
		return x.P > y.P
	}
	return x.ID < y.ID
}

// byRank sorts by better.
func byRank(x, y Prob) int {
	switch {
	case better(x, y):
		return -1
	case better(y, x):
		return 1
	}
	return 0
}

// topK keeps the k best candidates of c (k < len(c)), sorted best first,
// using a size-k min-heap: O(n log k) without sorting the whole vocabulary.
func (s *Sampler) topK(c []Prob, k int) []Prob {
	h := append(s.heap[:0], c[:k]...)
	// Build a heap whose root is the worst kept candidate.
	for i := k/2 - 1; i >= 0; i-- {
		siftDown(h, i)
	}
	for _, x := range c[k:] {
		if better(x, h[0]) {
			h[0] = x
			siftDown(h, 0)
		}
	}
	slices.SortFunc(h, byRank)
	s.heap = h
	n := copy(c, h)
	return c[:n]
}

// siftDown restores the heap property below i (worst candidate at the root).
func siftDown(h []Prob, i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		w := l
		if r := l + 1; r < n && better(h[l], h[r]) {
			w = r // the worse child
		}
		if !better(h[i], h[w]) {
			return
		}
		h[i], h[w] = h[w], h[i]
		i = w
	}
}

// topP keeps the smallest set of best candidates whose probability,
// renormalised over c, sums to at least topP, without sorting the whole
// vocabulary: one pass buckets the candidates by distance below the maximum
// log-probability (topPBucketWidth nats per bucket) and sums each bucket's
// mass; buckets wholly above the cut are kept as they are, and only the
// bucket where the cumulative mass crosses topP is sorted (best first, ties
// by lower id) to find the exact last token. The kept set is the same as
// sorting everything and taking the shortest prefix.
func topP(c []Prob, maxLP, topP float64) []Prob {
	var mass [topPBuckets]float64
	var z float64
	for _, x := range c {
		e := math.Exp(x.P - maxLP)
		mass[bucketOf(x.P, maxLP)] += e
		z += e
	}
	need := topP * z
	var above float64 // mass of the buckets before cut
	cut := topPBuckets - 1
	for b := range topPBuckets {
		if above+mass[b] >= need {
			cut = b
			break
		}
		above += mass[b]
	}
	// Partition: buckets before cut, then the cut bucket, then the rest.
	n := 0
	for i, x := range c {
		if bucketOf(x.P, maxLP) < cut {
			c[i], c[n] = c[n], c[i]
			n++
		}
	}
	m := n
	for i := n; i < len(c); i++ {
		if bucketOf(c[i].P, maxLP) == cut {
			c[i], c[m] = c[m], c[i]
			m++
		}
	}
	border := c[n:m]
	slices.SortFunc(border, byRank)
	cum := above
	for i, x := range border {
		cum += math.Exp(x.P - maxLP)
		if cum >= need {
			return c[:n+i+1]
		}
	}
	return c[:m] // rounding: keep the whole cut bucket
}

const (
	// topPBuckets buckets of topPBucketWidth nats cover 64 nats below the
	// maximum; everything further down shares the last bucket.
	topPBuckets     = 256
	topPBucketWidth = 0.25
)

// bucketOf returns the top-p bucket of log-probability lp.
func bucketOf(lp, maxLP float64) int {
	b := (maxLP - lp) * (1 / topPBucketWidth)
	if b >= topPBuckets-1 {
		return topPBuckets - 1
	}
	return int(b)
}
