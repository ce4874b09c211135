package sample

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/baco-go/baco/core/dist"
)

// full builds a Dist whose Full holds log(p) for each id.
func full(p ...float64) *dist.Dist {
	f := make([]float32, len(p))
	for i, v := range p {
		f[i] = float32(math.Log(v))
	}
	return &dist.Dist{Full: f}
}

// top builds a Top-only Dist from (id, probability) pairs.
func top(pairs ...float64) *dist.Dist {
	d := &dist.Dist{}
	for i := 0; i < len(pairs); i += 2 {
		d.Top = append(d.Top, dist.Candidate{ID: int32(pairs[i]), LogProb: float32(math.Log(pairs[i+1]))})
	}
	return d
}

// asMap turns a probability list into id → probability.
func asMap(ps []Prob) map[int32]float64 {
	m := make(map[int32]float64, len(ps))
	for _, p := range ps {
		m[p.ID] += p.P
	}
	return m
}

func checkProbs(t *testing.T, what string, got []Prob, want map[int32]float64) {
	t.Helper()
	g := asMap(got)
	if len(g) != len(want) {
		t.Errorf("%s: support %v, want %v", what, g, want)
		return
	}
	for id, w := range want {
		if p, ok := g[id]; !ok || math.Abs(p-w) > 1e-6 {
			t.Errorf("%s: P(%d) = %v (present %v), want %v; got %v", what, id, p, ok, w, g)
		}
	}
}

func TestProbsTruncation(t *testing.T) {
	d := full(0.4, 0.3, 0.2, 0.1)
	P := func(temp, topP, minP float64, k int) Params {
		return Params{Temperature: temp, TopP: topP, MinP: minP, TopK: k}
	}
	tests := []struct {
		name string
		d    *dist.Dist
		p    Params
		want map[int32]float64
	}{
		{"no truncation", d, P(1, 1, 0, 0), map[int32]float64{0: .4, 1: .3, 2: .2, 3: .1}},
		{"top-k 2", d, P(1, 1, 0, 2), map[int32]float64{0: 4. / 7, 1: 3. / 7}},
		{"top-k 1", d, P(1, 1, 0, 1), map[int32]float64{0: 1}},
		{"top-k ≥ n", d, P(1, 1, 0, 10), map[int32]float64{0: .4, 1: .3, 2: .2, 3: .1}},
		{"top-p 0.65", d, P(1, 0.65, 0, 0), map[int32]float64{0: 4. / 7, 1: 3. / 7}},
		{"top-p 0.75", d, P(1, 0.75, 0, 0), map[int32]float64{0: 4. / 9, 1: 3. / 9, 2: 2. / 9}},
		{"top-p 0.3", d, P(1, 0.3, 0, 0), map[int32]float64{0: 1}},
		{"top-p ties → lowest ids", full(.1, .1, .1, .1, .1, .1, .1, .1, .1, .1), P(1, 0.35, 0, 0), map[int32]float64{0: .25, 1: .25, 2: .25, 3: .25}},
		{"top-p on Top only", top(8, .3, 2, .3, 5, .2, 1, .1), P(1, 0.5, 0, 0), map[int32]float64{2: .5, 8: .5}},
		{"min-p 0.3 (≥0.12)", d, P(1, 1, 0.3, 0), map[int32]float64{0: 4. / 9, 1: 3. / 9, 2: 2. / 9}},
		{"min-p 0.6 (≥0.24)", d, P(1, 1, 0.6, 0), map[int32]float64{0: 4. / 7, 1: 3. / 7}},
		{"min-p 0.8 (≥0.32)", d, P(1, 1, 0.8, 0), map[int32]float64{0: 1}},
		// top-p runs on the top-k survivors renormalised (llama.cpp): after
		// k=3 the first two hold 0.7/0.9 = 0.78 ≥ 0.75, so token 2 goes.
		{"top-k 3 then top-p 0.75", d, P(1, 0.75, 0, 3), map[int32]float64{0: 4. / 7, 1: 3. / 7}},
		{"top-p 0.95 then min-p 0.6", d, P(1, 0.95, 0.6, 0), map[int32]float64{0: 4. / 7, 1: 3. / 7}},
		// Temperature after truncation: p² renormalised over {0,1}.
		{"top-k 2, T 0.5", d, P(0.5, 1, 0, 2), map[int32]float64{0: .16 / .25, 1: .09 / .25}},
		// T 2: √p renormalised.
		{"T 2", full(0.64, 0.36), P(2, 1, 0, 0), map[int32]float64{0: 0.8 / 1.4, 1: 0.6 / 1.4}},
		{"greedy", d, P(0, 1, 0, 0), map[int32]float64{0: 1}},
		{"greedy tie → lowest id", full(0.2, 0.4, 0.4), P(0, 1, 0, 0), map[int32]float64{1: 1}},
		{"greedy tie in unsorted Top", top(9, 0.4, 3, 0.4, 5, 0.2), P(0, 1, 0, 0), map[int32]float64{3: 1}},
		{"Top renormalised", top(5, 0.5, 9, 0.25), P(1, 1, 0, 0), map[int32]float64{5: 2. / 3, 9: 1. / 3}},
		{"-Inf dropped", &dist.Dist{Full: []float32{float32(math.Log(0.5)), float32(math.Inf(-1)), float32(math.Log(0.5))}}, P(1, 1, 0, 0), map[int32]float64{0: .5, 2: .5}},
	}
	var s Sampler
	for _, tc := range tests {
		got, err := s.Probs(tc.d, tc.p)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		checkProbs(t, tc.name, got, tc.want)
	}
}

// TestTopPLargeVocab checks the threshold search of top-p on a shuffled
// vocabulary of 5000 ids against a brute-force reference (sort everything,
// take the shortest prefix reaching the mass).
func TestTopPLargeVocab(t *testing.T) {
	const n = 5000
	r := rand.New(rand.NewPCG(7, 7))
	logits := make([]float32, n)
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 3)
	}
	d := dist.FromLogits(logits, 10)
	var s Sampler
	for _, tp := range []float64{0.1, 0.5, 0.9, 0.99, 0.999} {
		got, err := s.Probs(&d, Params{Temperature: 1, TopP: tp})
		if err != nil {
			t.Fatal(err)
		}
		// Reference.
		type c struct {
			id int32
			p  float64
		}
		all := make([]c, n)
		for i, lp := range d.Full {
			all[i] = c{int32(i), math.Exp(float64(lp))}
		}
		slices.SortFunc(all, func(a, b c) int {
			if a.p != b.p {
				if a.p > b.p {
					return -1
				}
				return 1
			}
			return int(a.id - b.id)
		})
		var z, cum float64
		for _, x := range all {
			z += x.p
		}
		k := 0
		for k < n {
			cum += all[k].p
			k++
			if cum >= tp*z {
				break
			}
		}
		want := make(map[int32]float64, k)
		for _, x := range all[:k] {
			want[x.id] = x.p / cum
		}
		checkProbs(t, "top-p large vocab", got, want)
	}
}

// chiSquare returns Σ (observed − expected)² / expected.
func chiSquare(counts []int, probs []float64, total int) float64 {
	var x2 float64
	for i, p := range probs {
		e := p * float64(total)
		d := float64(counts[i]) - e
		x2 += d * d / e
	}
	return x2
}

// Critical values of the χ² distribution at the 0.999 quantile (α = 0.001),
// from the standard table (NIST/SEMATECH e-Handbook, 1.3.6.7.4).
var chi2Crit999 = map[int]float64{2: 13.816, 4: 18.467}

func TestSampleChiSquare(t *testing.T) {
	const draws = 20000
	tests := []struct {
		name string
		d    *dist.Dist
		p    Params
		want []float64 // expected probability of ids 0..len-1
	}{
		{"T 1", full(0.5, 0.2, 0.15, 0.1, 0.05), Default(), []float64{0.5, 0.2, 0.15, 0.1, 0.05}},
		// T 0.5: p² / Σp², Σp² = 0.25+0.04+0.0225+0.01+0.0025 = 0.325.
		{"T 0.5", full(0.5, 0.2, 0.15, 0.1, 0.05), Params{Temperature: 0.5, TopP: 1},
			[]float64{0.25 / 0.325, 0.04 / 0.325, 0.0225 / 0.325, 0.01 / 0.325, 0.0025 / 0.325}},
		{"Top only", top(0, 0.3, 1, 0.2, 2, 0.1, 3, 0.1, 4, 0.1), Default(),
			[]float64{0.375, 0.25, 0.125, 0.125, 0.125}},
	}
	for _, tc := range tests {
		rng := NewRNG(12345, 0, StreamSampler)
		var s Sampler
		counts := make([]int, len(tc.want))
		for range draws {
			id, err := s.Sample(tc.d, tc.p, rng.Float64())
			if err != nil {
				t.Fatal(err)
			}
			counts[id]++
		}
		dof := len(tc.want) - 1
		x2 := chiSquare(counts, tc.want, draws)
		t.Logf("%s: χ² = %.2f (dof %d, critical %.3f)", tc.name, x2, dof, chi2Crit999[dof])
		if x2 > chi2Crit999[dof] {
			t.Errorf("%s: χ² = %.2f > %.3f (dof %d); counts %v", tc.name, x2, chi2Crit999[dof], dof, counts)
		}
	}
}

func TestMixture(t *testing.T) {
	base := full(0.6, 0.4, 0)      // ids 0,1 (id 2 has probability 0: -Inf)
	aligned := top(1, 0.5, 2, 0.5) // ids 1,2
	var s Sampler
	// 0.3·{0:.6,1:.4} + 0.7·{1:.5,2:.5} = {0:.18, 1:.12+.35, 2:.35}.
	want := map[int32]float64{0: 0.18, 1: 0.47, 2: 0.35}
	got, err := s.MixtureProbs(base, aligned, 0.3, Default(), Default())
	if err != nil {
		t.Fatal(err)
	}
	checkProbs(t, "mixture w=0.3", got, want)
	if !slices.IsSortedFunc(got, func(a, b Prob) int { return int(a.ID - b.ID) }) {
		t.Errorf("MixtureProbs not sorted by id: %v", got)
	}
	// Per-model parameters: greedy base is a point mass on id 0.
	// 0.5·{0:1} + 0.5·{1:.5,2:.5} = {0:.5, 1:.25, 2:.25}.
	got, err = s.MixtureProbs(base, aligned, 0.5, Greedy(), Default())
	if err != nil {
		t.Fatal(err)
	}
	checkProbs(t, "greedy base mixture", got, map[int32]float64{0: .5, 1: .25, 2: .25})
	// Hard weights ignore the other model, which may be nil.
	got, _ = s.MixtureProbs(base, nil, 1, Default(), Params{})
	checkProbs(t, "w=1", got, map[int32]float64{0: .6, 1: .4})
	got, _ = s.MixtureProbs(nil, aligned, 0, Params{}, Default())
	checkProbs(t, "w=0", got, map[int32]float64{1: .5, 2: .5})

	// Sampled frequencies against the hand-computed mixture.
	const draws = 20000
	rng := NewRNG(99, 4, StreamSampler)
	counts := make([]int, 3)
	for range draws {
		id, err := s.SampleMixture(base, aligned, 0.3, Default(), Default(), rng.Float64())
		if err != nil {
			t.Fatal(err)
		}
		counts[id]++
	}
	if x2 := chiSquare(counts, []float64{0.18, 0.47, 0.35}, draws); x2 > chi2Crit999[2] {
		t.Errorf("mixture χ² = %.2f > %.3f; counts %v", x2, chi2Crit999[2], counts)
	}
}

func TestSampleDeterministic(t *testing.T) {
	d := full(0.4, 0.3, 0.2, 0.1)
	var s Sampler
	// u is a quantile: the cumulative order for an untruncated Full dist is
	// by id, so u ∈ [0,.4) → 0, [.4,.7) → 1, [.7,.9) → 2, [.9,1) → 3.
	for _, tc := range []struct {
		u    float64
		want int32
	}{{0, 0}, {0.39, 0}, {0.41, 1}, {0.69, 1}, {0.71, 2}, {0.89, 2}, {0.91, 3}, {0.999999, 3}} {
		id, err := s.Sample(d, Default(), tc.u)
		if err != nil || id != tc.want {
			t.Errorf("Sample(u=%v) = %d, %v; want %d", tc.u, id, err, tc.want)
		}
	}
}

func TestRNGReproducible(t *testing.T) {
	seq := func(r *rand.Rand) []uint64 {
		out := make([]uint64, 50)
		for i := range out {
			out[i] = r.Uint64()
		}
		return out
	}
	a := seq(NewRNG(42, 3, StreamSampler))
	// Creating and using other samples' generators first changes nothing.
	for k := range 3 {
		seq(NewRNG(42, k, StreamSampler))
	}
	if b := seq(NewRNG(42, 3, StreamSampler)); !slices.Equal(a, b) {
		t.Error("same (seed, sample, stream) gave different streams")
	}
	distinct := [][]uint64{
		seq(NewRNG(42, 4, StreamSampler)),
		seq(NewRNG(42, 3, StreamRouter)),
		seq(NewRNG(43, 3, StreamSampler)),
		seq(NewRNG(0, 0, 0)),
	}
	for i, d := range distinct {
		if slices.Equal(a, d) {
			t.Errorf("variant %d gave the same stream", i)
		}
	}
	// Whole runs are reproducible: 200 draws twice with the same seed.
	run := func() []int32 {
		var s Sampler
		rng := NewRNG(7, 1, StreamSampler)
		d := full(0.5, 0.2, 0.15, 0.1, 0.05)
		out := make([]int32, 200)
		for i := range out {
			out[i], _ = s.Sample(d, Params{Temperature: 0.8, TopP: 0.9, TopK: 4}, rng.Float64())
		}
		return out
	}
	if x, y := run(), run(); !slices.Equal(x, y) {
		t.Error("two seeded runs differ")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		p    Params
		want string
	}{
		{Params{Temperature: -1, TopP: 1}, "temperature"},
		{Params{Temperature: math.NaN(), TopP: 1}, "temperature"},
		{Params{Temperature: math.Inf(1), TopP: 1}, "temperature"},
		{Params{Temperature: 1, TopP: 0}, "top_p"},
		{Params{Temperature: 1, TopP: 1.5}, "top_p"},
		{Params{Temperature: 1, TopP: math.NaN()}, "top_p"},
		{Params{Temperature: 1, TopP: 1, MinP: 1}, "min_p"},
		{Params{Temperature: 1, TopP: 1, MinP: -0.1}, "min_p"},
		{Params{Temperature: 1, TopP: 1, TopK: -1}, "top_k"},
		{Params{Temperature: 0.7, TopP: 0.9, MinP: 0.05, TopK: 40}, ""},
		{Greedy(), ""},
		{Default(), ""},
	}
	for _, tc := range tests {
		err := tc.p.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", tc.p, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: error %v, want one naming %s", tc.p, err, tc.want)
		}
	}
}

func TestSampleErrors(t *testing.T) {
	var s Sampler
	nan := &dist.Dist{Full: []float32{0, float32(math.NaN())}}
	tests := []struct {
		name string
		call func() error
		is   error
		text string
	}{
		{"nil dist", func() error { _, err := s.Sample(nil, Default(), 0.5); return err }, ErrEmptyDist, ""},
		{"empty dist", func() error { _, err := s.Sample(&dist.Dist{}, Default(), 0.5); return err }, ErrEmptyDist, ""},
		{"NaN", func() error { _, err := s.Sample(nan, Default(), 0.5); return err }, ErrBadDist, "id 1"},
		{"negative id", func() error { _, err := s.Sample(top(-1, 1), Default(), 0.5); return err }, ErrBadDist, ""},
		{"u = 1", func() error { _, err := s.Sample(full(1), Default(), 1); return err }, nil, "uniform"},
		{"u < 0", func() error { _, err := s.Sample(full(1), Default(), -0.1); return err }, nil, "uniform"},
		{"bad params", func() error { _, err := s.Sample(full(1), Params{}, 0.5); return err }, nil, "top_p"},
		{"w > 1", func() error { _, err := s.SampleMixture(full(1), full(1), 1.1, Default(), Default(), 0.5); return err }, nil, "weight"},
		{"w NaN", func() error {
			_, err := s.SampleMixture(full(1), full(1), math.NaN(), Default(), Default(), 0.5)
			return err
		}, nil, "weight"},
		{"mixture nil aligned", func() error {
			_, err := s.SampleMixture(full(1), nil, 0.5, Default(), Default(), 0.5)
			return err
		}, ErrEmptyDist, "aligned"},
		{"mixture bad base params", func() error {
			_, err := s.SampleMixture(full(1), full(1), 0.5, Params{TopP: 1, TopK: -3}, Default(), 0.5)
			return err
		}, nil, "base: sample: top_k"},
	}
	for _, tc := range tests {
		err := tc.call()
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: %v is not %v", tc.name, err, tc.is)
		}
		if !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: %q does not contain %q", tc.name, err, tc.text)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	logits := make([]float32, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range logits {
		logits[i] = float32(r.NormFloat64())
	}
	d := dist.FromLogits(logits, 40)
	var s Sampler
	for _, p := range []Params{Default(), Greedy(), {Temperature: 0.8, TopP: 0.95, TopK: 40, MinP: 0.05}, {Temperature: 0.7, TopP: 0.9}} {
		s.Sample(&d, p, 0.5) // grow the buffers
		if n := testing.AllocsPerRun(20, func() { s.Sample(&d, p, 0.3) }); n != 0 {
			t.Errorf("%+v: %v allocations per Sample", p, n)
		}
	}
	s.SampleMixture(&d, &d, 0.5, Default(), Default(), 0.5)
	if n := testing.AllocsPerRun(20, func() { s.SampleMixture(&d, &d, 0.5, Default(), Default(), 0.3) }); n != 0 {
		t.Errorf("%v allocations per SampleMixture", n)
	}
}

func BenchmarkSample(b *testing.B) {
	const vocab = 32000
	logits := make([]float32, vocab)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 2)
	}
	fullD := dist.FromLogits(logits, 40)
	topD := dist.Dist{Top: fullD.Top}
	cases := []struct {
		name string
		d    *dist.Dist
		p    Params
	}{
		{"full32k/greedy", &fullD, Greedy()},
		{"full32k/T1", &fullD, Default()},
		{"full32k/topk40", &fullD, Params{Temperature: 0.8, TopP: 1, TopK: 40}},
		{"full32k/topp0.95", &fullD, Params{Temperature: 0.8, TopP: 0.95}},
		{"full32k/minp0.05", &fullD, Params{Temperature: 0.8, TopP: 1, MinP: 0.05}},
		{"top40/T0.8-topp0.9", &topD, Params{Temperature: 0.8, TopP: 0.9}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var s Sampler
			rng := NewRNG(1, 0, StreamSampler)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sample(c.d, c.p, rng.Float64()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("mixture/top40", func(b *testing.B) {
		var s Sampler
		rng := NewRNG(1, 0, StreamSampler)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.SampleMixture(&topD, &topD, 0.5, Default(), Default(), rng.Float64()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
