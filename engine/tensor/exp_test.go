package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestExp32(t *testing.T) {
	worst := 0.0
	for x := float32(-103.9); x < 88.7; x += 0.001237 {
		want := math.Exp(float64(x))
		got := float64(exp32(x))
		if want < 1.1754944e-38 { // float32 subnormals: compare absolutely
			if math.Abs(got-want) > 2.9e-45 {
				t.Fatalf("exp32(%g) = %g, want %g", x, got, want)
			}
			continue
		}
		worst = math.Max(worst, math.Abs(got-want)/want)
	}
	if worst > 2e-7 {
		t.Errorf("exp32 max relative error %.3g, want < 2e-7", worst)
	}
	for _, tc := range []struct{ x, want float32 }{
		{0, 1}, {-200, 0}, {100, float32(math.Inf(1))}, {float32(math.Inf(-1)), 0},
	} {
		if got := exp32(tc.x); got != tc.want {
			t.Errorf("exp32(%g) = %g, want %g", tc.x, got, tc.want)
		}
	}
	if got := exp32(float32(math.NaN())); got == got {
		t.Errorf("exp32(NaN) = %g", got)
	}
}

// expInputs covers exp32's whole domain: a dense sweep, the edges of the
// special cases (−104, 88.8 and their float32 neighbours), results in the
// float32 subnormal range, zeros, infinities and NaN.
func expInputs() []float32 {
	var xs []float32
	for x := float32(-110); x < 95; x += 0.0371 {
		xs = append(xs, x)
	}
	for _, e := range []float32{-104, 88.8, -87.3, -100.5, -103.99} {
		xs = append(xs, e, math.Nextafter32(e, -1000), math.Nextafter32(e, 1000))
	}
	inf := float32(math.Inf(1))
	xs = append(xs, 0, float32(math.Copysign(0, -1)), inf, -inf, float32(math.NaN()), 1e-30, -1e-30)
	return xs
}

// TestExpF32MatchesExp32: the vector exponential and SwiGLU are bitwise
// exp32 and the scalar SwiGLU formula, for every length (vector body and
// scalar tail).
func TestExpF32MatchesExp32(t *testing.T) {
	xs := expInputs()
	for _, n := range []int{len(xs), 7, 9, 16} {
		in := xs[:n]
		for _, shift := range []float32{0, 2.5, -3} {
			got := append([]float32(nil), in...)
			ExpF32(got, shift)
			for i, x := range in {
				want := exp32(x - shift)
				if math.Float32bits(got[i]) != math.Float32bits(want) && !(got[i] != got[i] && want != want) {
					t.Fatalf("ExpF32(%g, shift %g) = %g, exp32 %g", x, shift, got[i], want)
				}
			}
		}
		u := make([]float32, n)
		for i := range u {
			u[i] = float32(i%13) - 6.5
		}
		got := append([]float32(nil), in...)
		SwiGLUF32(got, u)
		for i, x := range in {
			want := x / (1 + exp32(-x)) * u[i]
			if math.Float32bits(got[i]) != math.Float32bits(want) && !(got[i] != got[i] && want != want) {
				t.Fatalf("SwiGLUF32(%g)·%g = %g, want %g", x, u[i], got[i], want)
			}
		}
	}
}

// TestSoftmaxF32: the vector passes are bitwise their portable forms, and
// the result matches a float64 softmax to float32 accuracy, for lengths
// with and without a tail.
func TestSoftmaxF32(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, n := range []int{1, 7, 8, 9, 64, 1000} {
		x := randVec(r, n, 3)
		x[n/2] = 40 // a dominant score
		const scale = 0.125
		if n8 := n &^ 7; n8 > 0 {
			a, b := append([]float32(nil), x[:n8]...), append([]float32(nil), x[:n8]...)
			ma, mb := scaleMaxF32(a, scale), scaleMaxF32Go(b, scale)
			sa, sb := expSumF32(a, ma), expSumF32Go(b, mb)
			if ma != mb || sa != sb || firstDiffBits(a, b) >= 0 {
				t.Fatalf("n %d: vector passes (max %v, sum %v) differ from portable (max %v, sum %v)", n, ma, sa, mb, sb)
			}
		}
		got := append([]float32(nil), x...)
		SoftmaxF32(got, scale)
		maxv := math.Inf(-1)
		for _, v := range x {
			maxv = math.Max(maxv, float64(v)*scale)
		}
		var sum float64
		for _, v := range x {
			sum += math.Exp(float64(v)*scale - maxv)
		}
		for i, v := range x {
			want := math.Exp(float64(v)*scale-maxv) / sum
			if e := math.Abs(float64(got[i]) - want); e > 1e-6*want+1e-30 {
				t.Fatalf("n %d: softmax[%d] = %v, want %v", n, i, got[i], want)
			}
		}
	}
	SoftmaxF32(nil, 1)
}
