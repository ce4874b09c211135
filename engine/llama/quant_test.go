package llama

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/tensor"
)

// TestQuantisedLogitsWithinDerivedBound stores one random model (dim 256,
// 2 layers, vocab 512) as F32 and as every supported quantised type, and
// bounds the RMS logit error of each against F32.
//
// Derivation of the bound. Quantising a matrix W adds an error E with
// ‖E‖ = εw‖W‖ whose entries are small and nearly independent of each other
// and of the input, so a product (W+E)x changes by a vector of relative size
// εw; the matrix kernels also quantise the activations x (Q8_0 blocks for
// Q8_0/Q4_0 weights, Q8_K super-blocks for the k-quants), which perturbs the
// product by a further, independent relative εa. The total relative
// perturbation of every product is therefore ε = √(εw² + εa²). For
// perturbations this small the network responds linearly: the RMS logit
// error is S·ε, where the sensitivity S is a property of the model alone. We
// measure S directly by adding Gaussian noise of known relative size ε0 to
// every F32 matrix and measuring the RMS logit change e0: S = e0/ε0. εw is
// measured on the weights (quantise, dequantise, compare) and εa on unit
// Gaussian activations with the same block schemes. The assertion allows a
// factor 2 over S·ε (observed: 0.7–1.0) for what the linear model ignores (quantisation error is
// uniform rather than Gaussian, activations are heavier-tailed than
// Gaussian, finite-sample spread of e0).
func TestQuantisedLogitsWithinDerivedBound(t *testing.T) {
	spec := genSpec{arch: "llama", layers: 2, dim: 256, ff: 768, heads: 4, kvHeads: 2, vocab: 512, ctx: 64, ropeBase: 10000, seed: 21}
	ts := genWeights(spec)
	toks := randTokens(5, 24, spec.vocab)
	dir := t.TempDir()
	run := func(name string, ts []genTensor, typ gguf.TensorType) []float32 {
		path := filepath.Join(dir, name+".gguf")
		writeModel(t, path, spec, ts, typ)
		m, _ := openModel(t, path, 2)
		return forward1(t, m, m.NewCache(), toks, true)
	}
	ref := run("f32", ts, gguf.TypeF32)

	const eps0 = 0.01
	noisy := perturb(ts, eps0, 77)
	e0 := rmsDiff(run("noisy", noisy, gguf.TypeF32), ref)
	S := e0 / eps0
	t.Logf("logit RMS %.3f; sensitivity S = %.2f (noise ε0 = %g gave RMS logit error %.4f)", rms(ref), S, eps0, e0)

	actQ8_0 := actErrQ8(32)
	actQ8K := actErrQ8(256)
	cases := []struct {
		typ gguf.TensorType
		act float64
	}{
		{gguf.TypeF16, 0}, {gguf.TypeBF16, 0},
		{gguf.TypeQ8_0, actQ8_0}, {gguf.TypeQ6_K, actQ8K},
		{gguf.TypeQ4_K, actQ8K}, {gguf.TypeQ4_0, actQ8_0},
	}
	errs := map[gguf.TensorType]float64{}
	for _, tc := range cases {
		ew := weightErr(t, ts, tc.typ)
		eps := math.Hypot(ew, tc.act)
		bound := 2 * S * eps
		got := rmsDiff(run(tc.typ.String(), ts, tc.typ), ref)
		errs[tc.typ] = got
		t.Logf("%-5v εw %.2e εa %.2e → bound %.4f, RMS logit error %.4f (%.2f of S·ε)", tc.typ, ew, tc.act, bound, got, got/(S*eps))
		if !(got <= bound) {
			t.Errorf("%v: RMS logit error %.4g exceeds the derived bound %.4g", tc.typ, got, bound)
		}
	}
	order := []gguf.TensorType{gguf.TypeQ8_0, gguf.TypeQ6_K, gguf.TypeQ4_K, gguf.TypeQ4_0}
	for _, half := range []gguf.TensorType{gguf.TypeF16, gguf.TypeBF16} {
		if errs[half] >= errs[gguf.TypeQ8_0] {
			t.Errorf("%v error %.4g not below Q8_0's %.4g", half, errs[half], errs[gguf.TypeQ8_0])
		}
	}
	for i := 1; i < len(order); i++ {
		if errs[order[i-1]] >= errs[order[i]] {
			t.Errorf("%v error %.4g not below %v's %.4g", order[i-1], errs[order[i-1]], order[i], errs[order[i]])
		}
	}
}

// perturb returns a copy of ts with Gaussian noise of relative RMS eps added
// to every matrix (vectors are left alone, as quantisation leaves them).
func perturb(ts []genTensor, eps float64, seed uint64) []genTensor {
	rng := rand.New(rand.NewPCG(seed, 3))
	out := make([]genTensor, len(ts))
	for i, tt := range ts {
		out[i] = tt
		if len(tt.dims) == 1 {
			continue
		}
		std := eps * rms(tt.data)
		d := make([]float32, len(tt.data))
		for j, v := range tt.data {
			d[j] = v + float32(rng.NormFloat64()*std)
		}
		out[i].data = d
	}
	return out
}

// weightErr is the relative RMS error of quantising every matrix of ts to
// typ: √(Σ‖W−Q(W)‖² / Σ‖W‖²).
func weightErr(t *testing.T, ts []genTensor, typ gguf.TensorType) float64 {
	var num, den float64
	for _, tt := range ts {
		if len(tt.dims) == 1 {
			continue
		}
		q, err := tensor.Quantize(typ, tt.data)
		if err != nil {
			t.Fatal(err)
		}
		back := make([]float32, len(tt.data))
		if err := tensor.Dequantize(typ, q, back); err != nil {
			t.Fatal(err)
		}
		for j, v := range tt.data {
			d := float64(v - back[j])
			num += d * d
			den += float64(v) * float64(v)
		}
	}
	return math.Sqrt(num / den)
}

// actErrQ8 is the relative RMS error of quantising unit Gaussian
// activations to int8 in blocks of n with one scale per block, amax/127, as
// ggml's Q8_0 (n = 32) and Q8_K (n = 256) activation quantisers do.
func actErrQ8(n int) float64 {
	rng := rand.New(rand.NewPCG(9, 9))
	var num, den float64
	x := make([]float64, n)
	for range 2000 {
		amax := 0.0
		for i := range x {
			x[i] = rng.NormFloat64()
			amax = math.Max(amax, math.Abs(x[i]))
		}
		d := amax / 127
		for _, v := range x {
			e := v - d*math.Round(v/d)
			num += e * e
			den += v * v
		}
	}
	return math.Sqrt(num / den)
}

func rms(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s / float64(len(v)))
}

func rmsDiff(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s / float64(len(a)))
}
