//go:build !purego

package tensor

import "golang.org/x/sys/cpu"

// haveSIMD reports whether the AVX2 assembly kernels are in use: they need
// AVX2 (integer lanes), FMA and F16C (fp16 scales and weights).
var haveSIMD = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C

// The kernels MatMul calls, chosen once from the CPU's features.
var (
	dotF32  = pick(dotF32AVX2Go, dotF32Go)
	dotF16  = pick(dotF16AVX2Go, dotF16Go)
	dotBF16 = pick(dotBF16AVX2Go, dotBF16Go)
	dotQ8_0 = pick(dotQ8_0AVX2Go, dotQ8_0Go)
	dotQ4_0 = pick(dotQ4_0AVX2Go, dotQ4_0Go)
	dotQ4K  = pick(dotQ4KAVX2Go, dotQ4KGo)
	dotQ6K  = pick(dotQ6KAVX2Go, dotQ6KGo)
)

// dotQ8_0x4 dispatches the four-column Q8_0 kernel. It is a plain function,
// not a function value, so that escape analysis keeps out on the stack.
func dotQ8_0x4(w []byte, xq []int8, xd []float32, cols, nb int, out *[4]float32) {
	if haveSIMD {
		dotQ8_0x4AVX2Go(w, xq, xd, cols, nb, out)
	} else {
		dotQ8_0x4Go(w, xq, xd, cols, nb, out)
	}
}

// dotQ4_0x4 dispatches the four-column Q4_0 kernel (see dotQ8_0x4).
func dotQ4_0x4(w []byte, xq []int8, xd []float32, cols, nb int, out *[4]float32) {
	if haveSIMD {
		dotQ4_0x4AVX2Go(w, xq, xd, cols, nb, out)
	} else {
		dotQ4_0x4Go(w, xq, xd, cols, nb, out)
	}
}

func pick[F any](simd, portable F) F {
	if haveSIMD {
		return simd
	}
	return portable
}

//go:noescape
func dotF32AVX2(a, b *float32, n int) float32

//go:noescape
func dotF16AVX2(w *byte, x *float32, n int) float32

//go:noescape
func dotBF16AVX2(w *byte, x *float32, n int) float32

//go:noescape
func dotQ8_0AVX2(w *byte, xq *int8, xd *float32, nb int) float32

//go:noescape
func dotQ4_0AVX2(w *byte, xq *int8, xd *float32, nb int) float32

//go:noescape
func dotQ8_0x4AVX2(w *byte, xq *int8, xstride int, xd *float32, dstride int, nb int, out *[4]float32)

//go:noescape
func dotQ4_0x4AVX2(w *byte, xq *int8, xstride int, xd *float32, dstride int, nb int, out *[4]float32)

//go:noescape
func q4KSumsAVX2(q4 *byte, q8 *int8, sc *int16) int32

//go:noescape
func q6KSumsAVX2(b *byte, q8 *int8) int32

// dotF32AVX2Go is dotF32Go's contract on AVX2: the multiple-of-8 prefix in
// assembly, the tail added in order.
func dotF32AVX2Go(a, b []float32) float32 {
	n := len(a) &^ 7
	var s float32
	if n > 0 {
		b := b[:n]
		s = dotF32AVX2(&a[0], &b[0], n)
	}
	for i := n; i < len(a); i++ {
		s += float32(a[i] * b[i])
	}
	return s
}

func dotF16AVX2Go(w []byte, x []float32) float32 {
	w = w[:2*len(x)]
	n := len(x) &^ 7
	var s float32
	if n > 0 {
		s = dotF16AVX2(&w[0], &x[0], n)
	}
	t := f16Table()
	for i := n; i < len(x); i++ {
		s += float32(t[le16(w[2*i:])] * x[i])
	}
	return s
}

func dotBF16AVX2Go(w []byte, x []float32) float32 {
	w = w[:2*len(x)]
	n := len(x) &^ 7
	var s float32
	if n > 0 {
		s = dotBF16AVX2(&w[0], &x[0], n)
	}
	for i := n; i < len(x); i++ {
		s += float32(bf16ToF32(le16(w[2*i:])) * x[i])
	}
	return s
}

func dotQ8_0AVX2Go(w []byte, xq []int8, xd []float32) float32 {
	nb := len(xd)
	if nb == 0 {
		return 0
	}
	_ = w[nb*blockQ8_0Bytes-1]
	_ = xq[nb*qk8_0-1]
	return dotQ8_0AVX2(&w[0], &xq[0], &xd[0], nb)
}

func dotQ4_0AVX2Go(w []byte, xq []int8, xd []float32) float32 {
	nb := len(xd)
	if nb == 0 {
		return 0
	}
	_ = w[nb*blockQ4_0Bytes-1]
	_ = xq[nb*qk4_0-1]
	return dotQ4_0AVX2(&w[0], &xq[0], &xd[0], nb)
}

// dotQ8_0x4AVX2Go checks the bounds of the four columns and runs the
// four-column assembly kernel.
func dotQ8_0x4AVX2Go(w []byte, xq []int8, xd []float32, cols, nb int, out *[4]float32) {
	if nb == 0 {
		*out = [4]float32{}
		return
	}
	_ = w[nb*blockQ8_0Bytes-1]
	_ = xq[3*cols+nb*qk8_0-1]
	_ = xd[4*nb-1]
	dotQ8_0x4AVX2(&w[0], &xq[0], cols, &xd[0], nb, nb, out)
}

// dotQ4_0x4AVX2Go is dotQ8_0x4AVX2Go for Q4_0 weights.
func dotQ4_0x4AVX2Go(w []byte, xq []int8, xd []float32, cols, nb int, out *[4]float32) {
	if nb == 0 {
		*out = [4]float32{}
		return
	}
	_ = w[nb*blockQ4_0Bytes-1]
	_ = xq[3*cols+nb*qk4_0-1]
	_ = xd[4*nb-1]
	dotQ4_0x4AVX2(&w[0], &xq[0], cols, &xd[0], nb, nb, out)
}

// dotQ4KAVX2Go is dotQ4KGo with the scaled integer sums of each super-block
// computed in assembly; the integer results are identical, and so is the
// float32 combination, so it is bitwise equal to dotQ4KGo.
func dotQ4KAVX2Go(w []byte, xq []int8, xd []float32, bsums []int16) float32 {
	t := f16Table()
	var sum float32
	var scales [8]int16
	for i := range xd {
		b := w[i*blockQ4KBytes : (i+1)*blockQ4KBytes]
		q8 := xq[i*qkK : (i+1)*qkK]
		bs := bsums[i*qkK/16 : (i+1)*qkK/16]
		sc := b[4 : 4+kScaleSize]
		var summ int32
		for j := 0; j < qkK/32; j++ {
			s, m := scaleMinK4(j, sc)
			scales[j] = int16(s)
			summ += int32(m) * (int32(bs[2*j]) + int32(bs[2*j+1]))
		}
		sumq := q4KSumsAVX2(&b[4+kScaleSize], &q8[0], &scales[0])
		d := float32(t[le16(b)] * xd[i])
		dmin := float32(t[le16(b[2:])] * xd[i])
		sum += float32(d*float32(sumq)) - float32(dmin*float32(summ))
	}
	return sum
}

// dotQ6KAVX2Go is dotQ6KGo with the integer sums in assembly (on unsigned
// quants, the −32 offset applied through the activation sums); bitwise equal
// to dotQ6KGo.
func dotQ6KAVX2Go(w []byte, xq []int8, xd []float32, bsums []int16) float32 {
	t := f16Table()
	var sum float32
	for i := range xd {
		b := w[i*blockQ6KBytes : (i+1)*blockQ6KBytes]
		q8 := xq[i*qkK : (i+1)*qkK]
		bs := bsums[i*qkK/16 : (i+1)*qkK/16]
		sc := b[qkK/2+qkK/4 : qkK/2+qkK/4+qkK/16]
		var off int32
		for g := 0; g < qkK/16; g++ {
			off += int32(int8(sc[g])) * int32(bs[g])
		}
		isum := q6KSumsAVX2(&b[0], &q8[0]) - 32*off
		sum += float32(float32(t[le16(b[qkK/2+qkK/4+qkK/16:])]*xd[i]) * float32(isum))
	}
	return sum
}
