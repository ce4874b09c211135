package tensor

import "math"

// exp32 returns e^x to float32 accuracy (relative error below 2e-7), several
// times faster than math.Exp: x = k·ln2 + r with |r| ≤ ln2/2, e^r by its
// degree-7 Taylor polynomial in float64 (truncation error < 6e-9), scaled by
// 2^k. It returns 0 below -104 (where float32 underflows) and +Inf above
// 88.8.
func exp32(x float32) float32 {
	switch {
	case x < -104:
		return 0
	case x > 88.8:
		return float32(math.Inf(1))
	case x != x: // NaN
		return x
	}
	xd := float64(x)
	// Round to nearest by adding and subtracting 1.5·2^52.
	const magic = 0x1.8p52
	k := (xd*math.Log2E + magic) - magic
	r := xd - k*math.Ln2
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
	return float32(p * math.Float64frombits(uint64(int64(k)+1023)<<52))
}

// ExpF32 replaces every x[i] with e^(x[i]−shift), computed as exp32 does
// (float32-accurate; 0 below −104, +Inf above 88.8) and bitwise equal to
// it on every path. Softmax uses it with shift = max x.
func ExpF32(x []float32, shift float32) {
	expF32(x, shift)
}

// SwiGLUF32 replaces every g[i] with silu(g[i])·u[i] =
// g[i]/(1+e^(−g[i]))·u[i], the exponential computed as exp32 does and the
// rest in float32 in that order. u must be at least as long as g.
func SwiGLUF32(g, u []float32) {
	u = u[:len(g)]
	swiGLUF32(g, u)
}

func expF32Go(x []float32, shift float32) {
	for i, v := range x {
		x[i] = exp32(v - shift)
	}
}

func swiGLUF32Go(g, u []float32) {
	u = u[:len(g)]
	for i, x := range g {
		g[i] = x / (1 + exp32(-x)) * u[i]
	}
}

// SoftmaxF32 replaces x with softmax(scale·x): v = scale·x[i] in float32,
// e = e^(v − max v) as ExpF32 computes it, then e·float32(1/Σe) with the
// sum in float64 (eight running sums over the whole groups of eight, then
// the rest in order), bitwise the same on every path. NaN inputs give
// unspecified results.
func SoftmaxF32(x []float32, scale float32) {
	if len(x) == 0 {
		return
	}
	n8 := len(x) &^ 7
	maxv := float32(math.Inf(-1))
	if n8 > 0 {
		maxv = scaleMaxF32(x[:n8], scale)
	}
	for i := n8; i < len(x); i++ {
		v := x[i] * scale
		x[i] = v
		maxv = max(maxv, v)
	}
	var sum float64
	if n8 > 0 {
		sum = expSumF32(x[:n8], maxv)
	}
	for i := n8; i < len(x); i++ {
		e := exp32(x[i] - maxv)
		x[i] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	scaleF32(x, inv)
}

// scaleMaxF32Go multiplies x (a whole number of groups of 8) by scale and
// returns the largest product.
func scaleMaxF32Go(x []float32, scale float32) float32 {
	m := float32(math.Inf(-1))
	for i, v := range x {
		v *= scale
		x[i] = v
		m = max(m, v)
	}
	return m
}

// expSumF32Go replaces x (a whole number of groups of 8) with
// exp32(x − shift) and returns their sum: eight float64 running sums, lane
// l collecting elements l, l+8, …, combined as ((s0+s4)+(s2+s6)) +
// ((s1+s5)+(s3+s7)).
func expSumF32Go(x []float32, shift float32) float64 {
	var s [8]float64
	for i, v := range x {
		e := exp32(v - shift)
		x[i] = e
		s[i%8] += float64(e)
	}
	return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]))
}

// scaleF32Go multiplies every x[i] by a.
func scaleF32Go(x []float32, a float32) {
	for i := range x {
		x[i] *= a
	}
}
