package llama

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
