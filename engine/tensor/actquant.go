package tensor

import "math"

// quantizeActQ8_0 quantises activations x (a whole number of 32-blocks) to
// int8 with one scale per block exactly as llama.cpp's x86 (AVX2/AVX-512)
// quantize_row_q8_0 does, so that Q8_0 and Q4_0 products see the same
// activations as llama.cpp's: amax = max|x|, id = 127/amax (0 for an
// all-zero block), q = round(x·id) with ties to even, and the scale
// d = amax/127 rounded to fp16 (as block_q8_0 stores it), kept here as the
// float32 value of that fp16. (ggml's reference quantiser differs: id =
// 1/d and ties away from zero.)
func quantizeActQ8_0(x []float32, qs []int8, d []float32) {
	for i := range d {
		xb := x[i*qk8_0 : (i+1)*qk8_0]
		qb := qs[i*qk8_0 : (i+1)*qk8_0]
		var amax float32
		for _, v := range xb {
			amax = max(amax, abs32(v))
		}
		var id float32
		if amax != 0 {
			id = 127 / amax
		}
		d[i] = fp16ToF32(f32ToFP16(amax / 127))
		for j, v := range xb {
			// |v·id| <= 127 (plus rounding), exact in float64.
			qb[j] = int8(math.RoundToEven(float64(v * id)))
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
