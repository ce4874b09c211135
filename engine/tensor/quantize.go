package tensor

import (
	"fmt"
	"math"

	"github.com/baco-go/baco/engine/gguf"
)

// The quantisers below are ports of ggml's quantize_row_*_ref (ggml-quants.c).
// They must reproduce ggml's bytes exactly, so every float32 product that C
// would round before an addition is wrapped in an explicit float32()
// conversion: the Go spec lets a compiler fuse x*y+z into one FMA otherwise,
// which rounds once and would change the bytes on some architectures.

// groupMaxEps is ggml's GROUP_MAX_EPS: groups with max |x| below it are zero.
const groupMaxEps = float32(1e-15)

// Quantize converts src to the ggml type t with ggml's reference quantiser
// (quantize_row_*_ref; F16 and BF16 round to nearest even, F32 is copied).
// len(src) must be a multiple of the type's block size.
func Quantize(t gguf.TensorType, src []float32) ([]byte, error) {
	n, err := rowBytes(t, len(src))
	if err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	dst := make([]byte, n)
	switch t {
	case gguf.TypeF32:
		for i, v := range src {
			putF32(dst[4*i:], v)
		}
	case gguf.TypeF16:
		for i, v := range src {
			put16(dst[2*i:], f32ToFP16(v))
		}
	case gguf.TypeBF16:
		for i, v := range src {
			put16(dst[2*i:], f32ToBF16(v))
		}
	case gguf.TypeQ8_0:
		for i := 0; i < len(src)/qk8_0; i++ {
			quantizeBlockQ8_0(src[i*qk8_0:(i+1)*qk8_0], dst[i*blockQ8_0Bytes:(i+1)*blockQ8_0Bytes])
		}
	case gguf.TypeQ4_0:
		for i := 0; i < len(src)/qk4_0; i++ {
			quantizeBlockQ4_0(src[i*qk4_0:(i+1)*qk4_0], dst[i*blockQ4_0Bytes:(i+1)*blockQ4_0Bytes])
		}
	case gguf.TypeQ4_K:
		for i := 0; i < len(src)/qkK; i++ {
			quantizeBlockQ4K(src[i*qkK:(i+1)*qkK], dst[i*blockQ4KBytes:(i+1)*blockQ4KBytes])
		}
	case gguf.TypeQ6_K:
		for i := 0; i < len(src)/qkK; i++ {
			quantizeBlockQ6K(src[i*qkK:(i+1)*qkK], dst[i*blockQ6KBytes:(i+1)*blockQ6KBytes])
		}
	}
	return dst, nil
}

func putF32(b []byte, v float32) {
	u := math.Float32bits(v)
	b[0], b[1], b[2], b[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
}

func getF32(b []byte) float32 {
	return math.Float32frombits(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ 0x80000000) }

// nearestInt rounds to nearest, ties to even, with ggml's magic-number trick
// (valid for |f| <= 4194303, as in ggml).
func nearestInt(f float32) int {
	v := f + 12582912
	return int(math.Float32bits(v)&0x007fffff) - 0x00400000
}

// quantizeBlockQ8_0 ports quantize_row_q8_0_ref for one block.
func quantizeBlockQ8_0(x []float32, y []byte) {
	var amax float32
	for _, v := range x {
		amax = max(amax, abs32(v))
	}
	d := amax / 127
	var id float32
	if d != 0 {
		id = 1 / d
	}
	put16(y, f32ToFP16(d))
	for j, v := range x {
		// roundf: half away from zero.
		y[2+j] = byte(int8(math.Round(float64(v * id))))
	}
}

// quantizeBlockQ4_0 ports quantize_row_q4_0_ref for one block.
func quantizeBlockQ4_0(x []float32, y []byte) {
	var amax, mx float32
	for _, v := range x {
		if amax < abs32(v) {
			amax = abs32(v)
			mx = v
		}
	}
	d := mx / -8
	var id float32
	if d != 0 {
		id = 1 / d
	}
	put16(y, f32ToFP16(d))
	for j := 0; j < qk4_0/2; j++ {
		x0 := float32(x[j]*id) + 8.5
		x1 := float32(x[qk4_0/2+j]*id) + 8.5
		xi0 := min(15, int8(int32(x0)))
		xi1 := min(15, int8(int32(x1)))
		y[2+j] = uint8(xi0) | uint8(xi1)<<4
	}
}

// makeQXQuants ports make_qx_quants with qw == nil (the only form the
// reference quantisers use).
func makeQXQuants(n, nmax int, x []float32, L []int8, rmseType int) float32 {
	var mx, amax float32
	for i := 0; i < n; i++ {
		ax := abs32(x[i])
		if ax > amax {
			amax = ax
			mx = x[i]
		}
	}
	if amax < groupMaxEps {
		for i := 0; i < n; i++ {
			L[i] = 0
		}
		return 0
	}
	fnmax := float32(nmax)
	iscale := -fnmax / mx
	weight := func(v float32) float32 {
		switch rmseType {
		case 1:
			return v * v
		case 2:
			return 1
		case 3:
			return abs32(v)
		}
		return float32(math.Sqrt(float64(abs32(v))))
	}
	if rmseType == 0 {
		for i := 0; i < n; i++ {
			l := nearestInt(float32(iscale * x[i]))
			L[i] = int8(nmax + max(-nmax, min(nmax-1, l)))
		}
		return 1 / iscale
	}
	returnEarly := false
	if rmseType < 0 {
		rmseType = -rmseType
		returnEarly = true
	}
	var sumlx, suml2 float32
	for i := 0; i < n; i++ {
		l := nearestInt(float32(iscale * x[i]))
		l = max(-nmax, min(nmax-1, l))
		L[i] = int8(l + nmax)
		w := weight(x[i])
		fl := float32(l)
		sumlx += float32(float32(w*x[i]) * fl)
		suml2 += float32(float32(w*fl) * fl)
	}
	var scale float32
	if suml2 != 0 {
		scale = sumlx / suml2
	}
	if returnEarly {
		if suml2 > 0 {
			return 0.5 * (scale + 1/iscale)
		}
		return 1 / iscale
	}
	best := float32(scale * sumlx)
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(fnmax + float32(0.1*float32(is))) / mx
		sumlx, suml2 = 0, 0
		for i := 0; i < n; i++ {
			l := nearestInt(float32(iscale * x[i]))
			l = max(-nmax, min(nmax-1, l))
			w := weight(x[i])
			fl := float32(l)
			sumlx += float32(float32(w*x[i]) * fl)
			suml2 += float32(float32(w*fl) * fl)
		}
		if suml2 > 0 && float32(sumlx*sumlx) > float32(best*suml2) {
			for i := 0; i < n; i++ {
				l := nearestInt(float32(iscale * x[i]))
				L[i] = int8(nmax + max(-nmax, min(nmax-1, l)))
			}
			scale = sumlx / suml2
			best = float32(scale * sumlx)
		}
	}
	return scale
}

// makeQKX2Quants ports make_qkx2_quants; it returns the scale and -min.
func makeQKX2Quants(n, nmax int, x, weights []float32, L, Laux []uint8,
	rmin, rdelta float32, nstep int, useMAD bool) (scale, negMin float32) {
	mn, mx := x[0], x[0]
	sumW := weights[0]
	sumX := float32(sumW * x[0])
	for i := 1; i < n; i++ {
		if x[i] < mn {
			mn = x[i]
		}
		if x[i] > mx {
			mx = x[i]
		}
		w := weights[i]
		sumW += w
		sumX += float32(w * x[i])
	}
	if mn > 0 {
		mn = 0
	}
	if mx == mn {
		for i := 0; i < n; i++ {
			L[i] = 0
		}
		return 0, -mn
	}
	fnmax := float32(nmax)
	iscale := fnmax / (mx - mn)
	scale = 1 / iscale
	var bestMAD float32
	for i := 0; i < n; i++ {
		l := nearestInt(float32(iscale * (x[i] - mn)))
		L[i] = uint8(max(0, min(nmax, l)))
		diff := float32(scale*float32(L[i])) + mn - x[i]
		if useMAD {
			diff = abs32(diff)
		} else {
			diff = float32(diff * diff)
		}
		bestMAD += float32(weights[i] * diff)
	}
	if nstep < 1 {
		return scale, -mn
	}
	for is := 0; is <= nstep; is++ {
		iscale = (rmin + float32(rdelta*float32(is)) + fnmax) / (mx - mn)
		var sumL, sumL2, sumXL float32
		for i := 0; i < n; i++ {
			l := nearestInt(float32(iscale * (x[i] - mn)))
			l = max(0, min(nmax, l))
			Laux[i] = uint8(l)
			w := weights[i]
			fl := float32(l)
			sumL += float32(w * fl)
			sumL2 += float32(float32(w*fl) * fl)
			sumXL += float32(float32(w*fl) * x[i])
		}
		D := float32(sumW*sumL2) - float32(sumL*sumL)
		if D > 0 {
			thisScale := (float32(sumW*sumXL) - float32(sumX*sumL)) / D
			thisMin := (float32(sumL2*sumX) - float32(sumL*sumXL)) / D
			if thisMin > 0 {
				thisMin = 0
				thisScale = sumXL / sumL2
			}
			var mad float32
			for i := 0; i < n; i++ {
				diff := float32(thisScale*float32(Laux[i])) + thisMin - x[i]
				if useMAD {
					diff = abs32(diff)
				} else {
					diff = float32(diff * diff)
				}
				mad += float32(weights[i] * diff)
			}
			if mad < bestMAD {
				copy(L[:n], Laux[:n])
				bestMAD = mad
				scale = thisScale
				mn = thisMin
			}
		}
	}
	return scale, -mn
}

// scaleMinK4 unpacks the 6-bit scale and min of sub-block j of a Q4_K block
// (get_scale_min_k4).
func scaleMinK4(j int, q []byte) (d, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return (q[j+4] & 0xF) | ((q[j-4] >> 6) << 4), (q[j+4] >> 4) | ((q[j] >> 6) << 4)
}

// quantizeBlockQ4K ports quantize_row_q4_K_ref for one super-block.
func quantizeBlockQ4K(x []float32, y []byte) {
	var L [qkK]uint8
	var weights [32]float32
	var laux [32]uint8
	var mins, scales [qkK / 32]float32
	var maxScale, maxMin float32
	for j := 0; j < qkK/32; j++ {
		xs := x[32*j : 32*j+32]
		var sumX2 float32
		for _, v := range xs {
			sumX2 += float32(v * v)
		}
		avX := float32(math.Sqrt(float64(sumX2 / 32)))
		for l, v := range xs {
			weights[l] = avX + abs32(v)
		}
		scales[j], mins[j] = makeQKX2Quants(32, 15, xs, weights[:], L[32*j:32*j+32], laux[:], -1, 0.1, 20, false)
		if scales[j] > maxScale {
			maxScale = scales[j]
		}
		if mins[j] > maxMin {
			maxMin = mins[j]
		}
	}
	var invScale, invMin float32
	if maxScale > 0 {
		invScale = 63 / maxScale
	}
	if maxMin > 0 {
		invMin = 63 / maxMin
	}
	sc := y[4 : 4+kScaleSize]
	for i := range sc {
		sc[i] = 0
	}
	for j := 0; j < qkK/32; j++ {
		ls := min(63, uint8(nearestInt(float32(invScale*scales[j]))))
		lm := min(63, uint8(nearestInt(float32(invMin*mins[j]))))
		if j < 4 {
			sc[j] = ls
			sc[j+4] = lm
		} else {
			sc[j+4] = (ls & 0xF) | ((lm & 0xF) << 4)
			sc[j-4] |= (ls >> 4) << 6
			sc[j] |= (lm >> 4) << 6
		}
	}
	put16(y[0:], f32ToFP16(maxScale/63))
	put16(y[2:], f32ToFP16(maxMin/63))
	dAll := fp16ToF32(le16(y[0:]))
	dminAll := fp16ToF32(le16(y[2:]))
	for j := 0; j < qkK/32; j++ {
		s, m := scaleMinK4(j, sc)
		d := float32(dAll * float32(s))
		if d == 0 {
			continue
		}
		dm := float32(dminAll * float32(m))
		for ii := 0; ii < 32; ii++ {
			l := nearestInt((x[32*j+ii] + dm) / d)
			L[32*j+ii] = uint8(max(0, min(15, l)))
		}
	}
	q := y[4+kScaleSize:]
	for j := 0; j < qkK; j += 64 {
		for l := 0; l < 32; l++ {
			q[l] = L[j+l] | L[j+l+32]<<4
		}
		q = q[32:]
	}
}

// quantizeBlockQ6K ports quantize_row_q6_K_ref for one super-block.
func quantizeBlockQ6K(x []float32, y []byte) {
	var L [qkK]int8
	var scales [qkK / 16]float32
	var maxScale, maxAbsScale float32
	for ib := 0; ib < qkK/16; ib++ {
		s := makeQXQuants(16, 32, x[16*ib:16*ib+16], L[16*ib:16*ib+16], 1)
		scales[ib] = s
		if as := abs32(s); as > maxAbsScale {
			maxAbsScale = as
			maxScale = s
		}
	}
	ql := y[0 : qkK/2]
	qh := y[qkK/2 : qkK/2+qkK/4]
	sc := y[qkK/2+qkK/4 : qkK/2+qkK/4+qkK/16]
	dOff := qkK/2 + qkK/4 + qkK/16
	if maxAbsScale < groupMaxEps {
		for i := range y[:blockQ6KBytes] {
			y[i] = 0
		}
		put16(y[dOff:], f32ToFP16(0))
		return
	}
	iscale := -128 / maxScale
	put16(y[dOff:], f32ToFP16(1/iscale))
	for ib := 0; ib < qkK/16; ib++ {
		sc[ib] = byte(int8(min(127, nearestInt(float32(iscale*scales[ib])))))
	}
	dAll := fp16ToF32(le16(y[dOff:]))
	for j := 0; j < qkK/16; j++ {
		d := float32(dAll * float32(int8(sc[j])))
		if d == 0 {
			continue
		}
		for ii := 0; ii < 16; ii++ {
			l := nearestInt(x[16*j+ii] / d)
			L[16*j+ii] = int8(max(-32, min(31, l)) + 32)
		}
	}
	for j := 0; j < qkK; j += 128 {
		for l := 0; l < 32; l++ {
			q1 := uint8(L[j+l]) & 0xF
			q2 := uint8(L[j+l+32]) & 0xF
			q3 := uint8(L[j+l+64]) & 0xF
			q4 := uint8(L[j+l+96]) & 0xF
			ql[l] = q1 | q3<<4
			ql[l+32] = q2 | q4<<4
			qh[l] = uint8(L[j+l])>>4 | (uint8(L[j+l+32])>>4)<<2 | (uint8(L[j+l+64])>>4)<<4 | (uint8(L[j+l+96])>>4)<<6
		}
		ql = ql[64:]
		qh = qh[32:]
	}
}
