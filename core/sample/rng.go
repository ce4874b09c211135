// Package sample draws the next token from a model's distribution, or from a
// mixture of two, with per-model temperature, top-k, top-p and min-p, and
// provides the seeded random streams that make every run reproducible.
package sample

import "math/rand/v2"

// Streams of one sequence. Each consumer of randomness draws from its own
// stream so that, for example, changing the router does not change the
// sampler's draws.
const (
	// StreamSampler feeds the token sampler.
	StreamSampler uint64 = 1
	// StreamRouter feeds View.U, the router's per-step uniform draw.
	StreamRouter uint64 = 2
)

// NewRNG returns a PCG generator for one stream of one sample. Its state is
// derived from (seed, sample, stream) alone, so sample k draws the same
// numbers whether 1 or 100 samples run, and in whatever order they run.
func NewRNG(seed uint64, sample int, stream uint64) *rand.Rand {
	s := uint64(sample)
	hi := splitmix64(seed ^ splitmix64(s^0x6a09e667f3bcc908))
	lo := splitmix64(stream ^ splitmix64(seed+0xbb67ae8584caa73b) ^ splitmix64(s+0x3c6ef372fe94f82b))
	return rand.New(rand.NewPCG(hi, lo))
}

// splitmix64 is the finaliser of Steele et al.'s SplitMix64, a bijection on
// uint64 with good avalanche, used to spread nearby seeds apart.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
