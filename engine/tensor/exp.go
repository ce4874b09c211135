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
