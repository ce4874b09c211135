package metrics

import "math"

// MeanLogLik is the mean of per-token natural-log probabilities; ok is
// false for an empty slice.
func MeanLogLik(logprobs []float64) (v float64, ok bool) {
	if len(logprobs) == 0 {
		return 0, false
	}
	var s float64
	for _, x := range logprobs {
		s += x
	}
	return s / float64(len(logprobs)), true
}

// Perplexity is exp(−mean log-likelihood) of per-token log-probabilities;
// ok is false for an empty slice.
func Perplexity(logprobs []float64) (v float64, ok bool) {
	m, ok := MeanLogLik(logprobs)
	if !ok {
		return 0, false
	}
	return math.Exp(-m), true
}
