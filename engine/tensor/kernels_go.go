package tensor

import "sync"

// Portable dot-product kernels. They are always compiled: the purego build
// and non-amd64 platforms run them, and the tests compare the assembly
// kernels against them.
//
// Every kernel fixes its summation order by the data alone (never by the
// batch size or the worker count), so a column of a batched MatMul is bitwise
// equal to the same column computed alone.

// f16Table maps every binary16 bit pattern to its float32 value; it is built
// once on first use and never written again.
var f16Table = sync.OnceValue(func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = fp16ToF32(uint16(i))
	}
	return &t
})

// dotF32Go returns Σ a[i]·b[i] over len(a) elements with four interleaved
// partial sums combined as (s0+s1)+(s2+s3), then the tail in order.
func dotF32Go(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += float32(a[i] * b[i])
		s1 += float32(a[i+1] * b[i+1])
		s2 += float32(a[i+2] * b[i+2])
		s3 += float32(a[i+3] * b[i+3])
	}
	s := (s0 + s1) + (s2 + s3)
	for ; i < len(a); i++ {
		s += float32(a[i] * b[i])
	}
	return s
}

// dotF16Go returns Σ w[i]·x[i] where w holds len(x) binary16 values.
func dotF16Go(w []byte, x []float32) float32 {
	t := f16Table()
	w = w[:2*len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += float32(t[le16(w[2*i:])] * x[i])
		s1 += float32(t[le16(w[2*i+2:])] * x[i+1])
		s2 += float32(t[le16(w[2*i+4:])] * x[i+2])
		s3 += float32(t[le16(w[2*i+6:])] * x[i+3])
	}
	s := (s0 + s1) + (s2 + s3)
	for ; i < len(x); i++ {
		s += float32(t[le16(w[2*i:])] * x[i])
	}
	return s
}

// dotBF16Go returns Σ w[i]·x[i] where w holds len(x) bfloat16 values.
func dotBF16Go(w []byte, x []float32) float32 {
	w = w[:2*len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += float32(bf16ToF32(le16(w[2*i:])) * x[i])
		s1 += float32(bf16ToF32(le16(w[2*i+2:])) * x[i+1])
		s2 += float32(bf16ToF32(le16(w[2*i+4:])) * x[i+2])
		s3 += float32(bf16ToF32(le16(w[2*i+6:])) * x[i+3])
	}
	s := (s0 + s1) + (s2 + s3)
	for ; i < len(x); i++ {
		s += float32(bf16ToF32(le16(w[2*i:])) * x[i])
	}
	return s
}

// dotQ8_0Go returns the dot product of a Q8_0 row (len(xd) blocks) with
// Q8_0-quantised activations (xq quants, xd per-block scales): per block the
// int32 sum of products times d_w·d_x, accumulated in block order.
func dotQ8_0Go(w []byte, xq []int8, xd []float32) float32 {
	t := f16Table()
	w = w[:len(xd)*blockQ8_0Bytes]
	xq = xq[:len(xd)*qk8_0]
	var sum float32
	for i, dx := range xd {
		b := w[i*blockQ8_0Bytes : (i+1)*blockQ8_0Bytes]
		wq := b[2:blockQ8_0Bytes]
		q := xq[i*qk8_0 : (i+1)*qk8_0]
		q = q[:len(wq)]
		var s0, s1, s2, s3 int32
		for j := 0; j+4 <= len(q); j += 4 {
			s0 += int32(int8(wq[j])) * int32(q[j])
			s1 += int32(int8(wq[j+1])) * int32(q[j+1])
			s2 += int32(int8(wq[j+2])) * int32(q[j+2])
			s3 += int32(int8(wq[j+3])) * int32(q[j+3])
		}
		s := (s0 + s1) + (s2 + s3)
		sum += float32(float32(s) * float32(t[uint16(b[0])|uint16(b[1])<<8]*dx))
	}
	return sum
}

// dotQ4_0Go is dotQ8_0Go for a Q4_0 row: quants are nibbles minus 8, low
// nibbles holding elements 0..15 of the block and high nibbles 16..31.
func dotQ4_0Go(w []byte, xq []int8, xd []float32) float32 {
	t := f16Table()
	w = w[:len(xd)*blockQ4_0Bytes]
	xq = xq[:len(xd)*qk4_0]
	var sum float32
	for i, dx := range xd {
		b := w[i*blockQ4_0Bytes : (i+1)*blockQ4_0Bytes]
		wq := b[2:blockQ4_0Bytes]
		q := xq[i*qk4_0 : (i+1)*qk4_0]
		lo, hi := q[:len(wq)], q[qk4_0/2:qk4_0/2+len(wq)]
		var s0, s1 int32
		for j, v := range wq {
			s0 += (int32(v&0xF) - 8) * int32(lo[j])
			s1 += (int32(v>>4) - 8) * int32(hi[j])
		}
		sum += float32(float32(s0+s1) * float32(t[uint16(b[0])|uint16(b[1])<<8]*dx))
	}
	return sum
}

// dotQ4KGo returns the dot product of a Q4_K row with Q8_K activations
// (xq quants, xd per-super-block scales, bsums sums of each 16 quants):
// per super-block d·d_x·Σ_j sc_j·Σ q4·q8 − dmin·d_x·Σ_j m_j·Σ q8, the integer
// sums exact.
func dotQ4KGo(w []byte, xq []int8, xd []float32, bsums []int16) float32 {
	t := f16Table()
	var sum float32
	for i := range xd {
		b := w[i*blockQ4KBytes : (i+1)*blockQ4KBytes]
		q8 := xq[i*qkK : (i+1)*qkK]
		bs := bsums[i*qkK/16 : (i+1)*qkK/16]
		sc := b[4 : 4+kScaleSize]
		q4 := b[4+kScaleSize:]
		var sumq, summ int32
		for j := 0; j < qkK/64; j++ {
			s0, m0 := scaleMinK4(2*j, sc)
			s1, m1 := scaleMinK4(2*j+1, sc)
			var a0, a1 int32
			for l := 0; l < 32; l++ {
				a0 += int32(q4[32*j+l]&0xF) * int32(q8[64*j+l])
				a1 += int32(q4[32*j+l]>>4) * int32(q8[64*j+32+l])
			}
			sumq += int32(s0)*a0 + int32(s1)*a1
			summ += int32(m0)*(int32(bs[4*j])+int32(bs[4*j+1])) + int32(m1)*(int32(bs[4*j+2])+int32(bs[4*j+3]))
		}
		d := float32(t[le16(b)] * xd[i])
		dmin := float32(t[le16(b[2:])] * xd[i])
		sum += float32(d*float32(sumq)) - float32(dmin*float32(summ))
	}
	return sum
}

// dotQ6KGo returns the dot product of a Q6_K row with Q8_K activations:
// per super-block d·d_x·Σ_j sc_j·Σ (q6−32)·q8 over its 16 groups of 16.
func dotQ6KGo(w []byte, xq []int8, xd []float32, _ []int16) float32 {
	t := f16Table()
	var sum float32
	for i := range xd {
		b := w[i*blockQ6KBytes : (i+1)*blockQ6KBytes]
		q8 := xq[i*qkK : (i+1)*qkK]
		ql := b[0 : qkK/2]
		qh := b[qkK/2 : qkK/2+qkK/4]
		sc := b[qkK/2+qkK/4 : qkK/2+qkK/4+qkK/16]
		var isum int32
		for n := 0; n < 2; n++ {
			var g [8]int32 // group sums: index (l/16) + 2*k for quarter k
			for l := 0; l < 32; l++ {
				h := qh[32*n+l]
				lo, hi := ql[64*n+l], ql[64*n+32+l]
				q1 := int32(lo&0xF|(h&3)<<4) - 32
				q2 := int32(hi&0xF|((h>>2)&3)<<4) - 32
				q3 := int32(lo>>4|((h>>4)&3)<<4) - 32
				q4 := int32(hi>>4|((h>>6)&3)<<4) - 32
				is := l / 16
				g[is] += q1 * int32(q8[128*n+l])
				g[is+2] += q2 * int32(q8[128*n+32+l])
				g[is+4] += q3 * int32(q8[128*n+64+l])
				g[is+6] += q4 * int32(q8[128*n+96+l])
			}
			for k := 0; k < 8; k++ {
				isum += int32(int8(sc[8*n+k])) * g[k]
			}
		}
		sum += float32(float32(t[le16(b[qkK/2+qkK/4+qkK/16:])]*xd[i]) * float32(isum))
	}
	return sum
}

// dotF32Bytes is dotF32Go for little-endian float32 weights that cannot be
// viewed in place (unaligned data or a big-endian host).
func dotF32Bytes(w []byte, x []float32) float32 {
	w = w[:4*len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += float32(getF32(w[4*i:]) * x[i])
		s1 += float32(getF32(w[4*i+4:]) * x[i+1])
		s2 += float32(getF32(w[4*i+8:]) * x[i+2])
		s3 += float32(getF32(w[4*i+12:]) * x[i+3])
	}
	s := (s0 + s1) + (s2 + s3)
	for ; i < len(x); i++ {
		s += float32(getF32(w[4*i:]) * x[i])
	}
	return s
}

// dotQ8_0x4Go is dotQ8_0Go for four activation columns (column c at
// xq[c*cols:] and xd[c*nb:]) against one weight row.
func dotQ8_0x4Go(w []byte, xq []int8, xd []float32, cols, nb int, out *[4]float32) {
	for c := range out {
		out[c] = dotQ8_0Go(w, xq[c*cols:c*cols+nb*qk8_0], xd[c*nb:(c+1)*nb])
	}
}

// dotQ4_0x4Go is dotQ4_0Go for four activation columns (see dotQ8_0x4Go).
func dotQ4_0x4Go(w []byte, xq []int8, xd []float32, cols, nb int, out *[4]float32) {
	for c := range out {
		out[c] = dotQ4_0Go(w, xq[c*cols:c*cols+nb*qk4_0], xd[c*nb:(c+1)*nb])
	}
}

// dotQ4Kx4Go is dotQ4KGo for four activation columns (column c at
// xq[c*cols:], xd[c*nb:], bsums[c*cols/16:]) against one weight row.
func dotQ4Kx4Go(w []byte, xq []int8, xd []float32, bsums []int16, cols, nb int, out *[4]float32) {
	for c := range out {
		out[c] = dotQ4KGo(w, xq[c*cols:c*cols+nb*qkK], xd[c*nb:(c+1)*nb], bsums[c*cols/16:c*cols/16+nb*qkK/16])
	}
}

// dotQ6Kx4Go is dotQ6KGo for four activation columns (see dotQ4Kx4Go).
func dotQ6Kx4Go(w []byte, xq []int8, xd []float32, bsums []int16, cols, nb int, out *[4]float32) {
	for c := range out {
		out[c] = dotQ6KGo(w, xq[c*cols:c*cols+nb*qkK], xd[c*nb:(c+1)*nb], bsums[c*cols/16:c*cols/16+nb*qkK/16])
	}
}

// dotF32x4Go is the portable four-column form of dotF32: column c is
// x[c*cols:(c+1)*cols], its result goes to out[c*ostride].
func dotF32x4Go(w, x []float32, cols int, out []float32, ostride int) {
	for c := 0; c < 4; c++ {
		out[c*ostride] = dotF32(w[:cols], x[c*cols:(c+1)*cols])
	}
}

// dotF16x4Go is dotF32x4Go for binary16 weights.
func dotF16x4Go(w []byte, x []float32, cols int, out []float32, ostride int) {
	for c := 0; c < 4; c++ {
		out[c*ostride] = dotF16(w, x[c*cols:(c+1)*cols])
	}
}

// dotBF16x4Go is dotF32x4Go for bfloat16 weights.
func dotBF16x4Go(w []byte, x []float32, cols int, out []float32, ostride int) {
	for c := 0; c < 4; c++ {
		out[c*ostride] = dotBF16(w, x[c*cols:(c+1)*cols])
	}
}
