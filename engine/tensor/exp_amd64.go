//go:build !purego

package tensor

import "math"

// expTab holds the float64 constants of exp32 (and the exponent bias), each
// repeated in four lanes, for the assembly kernels.
var expTab = func() (t [11][4]uint64) {
	vals := [11]uint64{
		math.Float64bits(math.Log2E),
		math.Float64bits(0x1.8p52),
		math.Float64bits(math.Ln2),
		math.Float64bits(1.0 / 5040),
		math.Float64bits(1.0 / 720),
		math.Float64bits(1.0 / 120),
		math.Float64bits(1.0 / 24),
		math.Float64bits(1.0 / 6),
		math.Float64bits(1.0 / 2),
		math.Float64bits(1),
		1023,
	}
	for i, v := range vals {
		t[i] = [4]uint64{v, v, v, v}
	}
	return t
}()

//go:noescape
func expF32AVX2(x *float32, n int, shift float32, tab *[11][4]uint64)

//go:noescape
func swiGLUF32AVX2(gate *float32, up *float32, n int, tab *[11][4]uint64)

// expF32 runs the multiple-of-8 prefix in assembly and the tail in Go.
func expF32(x []float32, shift float32) {
	n8 := len(x) &^ 7
	if haveSIMD && n8 > 0 {
		expF32AVX2(&x[0], n8, shift, &expTab)
	} else {
		n8 = 0
	}
	expF32Go(x[n8:], shift)
}

// swiGLUF32 runs the multiple-of-8 prefix in assembly and the tail in Go
// (len(u) == len(g)).
func swiGLUF32(g, u []float32) {
	n8 := len(g) &^ 7
	if haveSIMD && n8 > 0 {
		_ = u[n8-1]
		swiGLUF32AVX2(&g[0], &u[0], n8, &expTab)
	} else {
		n8 = 0
	}
	swiGLUF32Go(g[n8:], u[n8:])
}

//go:noescape
func scaleMaxF32AVX2(x *float32, n int, scale float32) float32

//go:noescape
func expSumF32AVX2(x *float32, n int, shift float32, tab *[11][4]uint64) float64

//go:noescape
func scaleF32AVX2(x *float32, n int, a float32)

// scaleMaxF32 is scaleMaxF32Go (len(x) a positive multiple of 8).
func scaleMaxF32(x []float32, scale float32) float32 {
	if !haveSIMD {
		return scaleMaxF32Go(x, scale)
	}
	return scaleMaxF32AVX2(&x[0], len(x), scale)
}

// expSumF32 is expSumF32Go (len(x) a positive multiple of 8).
func expSumF32(x []float32, shift float32) float64 {
	if !haveSIMD {
		return expSumF32Go(x, shift)
	}
	return expSumF32AVX2(&x[0], len(x), shift, &expTab)
}

// scaleF32 is scaleF32Go: the multiple-of-8 prefix in assembly.
func scaleF32(x []float32, a float32) {
	n8 := len(x) &^ 7
	if haveSIMD && n8 > 0 {
		scaleF32AVX2(&x[0], n8, a)
	} else {
		n8 = 0
	}
	scaleF32Go(x[n8:], a)
}
