package tensor

import "math"

// quantizeActQ8_0 quantises activations x (a whole number of 32-blocks) to
// int8 with one float32 scale per block: d = max|x|/127, q = round(x/d)
// (half away from zero), as quantize_row_q8_0_ref does except that the scale
// stays float32 instead of being rounded to fp16.
func quantizeActQ8_0(x []float32, qs []int8, d []float32) {
	for i := range d {
		xb := x[i*qk8_0 : (i+1)*qk8_0]
		qb := qs[i*qk8_0 : (i+1)*qk8_0]
		var amax float32
		for _, v := range xb {
			amax = max(amax, abs32(v))
		}
		di := amax / 127
		var id float32
		if di != 0 {
			id = 1 / di
		}
		d[i] = di
		for j, v := range xb {
			// roundf without math.Round: float64(v*id) + ±0.5 is exact
			// (|v*id| <= 127 has 24 significant bits), and the conversion
			// truncates toward zero.
			qb[j] = int8(int32(float64(v*id) + math.Copysign(0.5, float64(v))))
		}
	}
}

// quantizeActQ8K quantises activations x (a whole number of 256-blocks) to
// Q8_K: a port of quantize_row_q8_K_ref (scale -max/127 where max is the
// value of largest magnitude, round to nearest even, per-16 sums).
func quantizeActQ8K(x []float32, qs []int8, d []float32, bsums []int16) {
	for i := range d {
		xb := x[i*qkK : (i+1)*qkK]
		qb := qs[i*qkK : (i+1)*qkK]
		bs := bsums[i*qkK/16 : (i+1)*qkK/16]
		var mx, amax float32
		for _, v := range xb {
			if ax := abs32(v); ax > amax {
				amax = ax
				mx = v
			}
		}
		if amax == 0 {
			d[i] = 0
			clear(qb)
			clear(bs)
			continue
		}
		iscale := -127 / mx
		for j, v := range xb {
			qb[j] = int8(min(127, nearestInt(float32(iscale*v))))
		}
		for j := range bs {
			var s int16
			for _, q := range qb[16*j : 16*j+16] {
				s += int16(q)
			}
			bs[j] = s
		}
		d[i] = 1 / iscale
	}
}
