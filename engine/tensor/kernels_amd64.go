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

// dotF32x4 computes dotF32(w, x[c*cols:(c+1)*cols]) into out[c*ostride]
// for c < 4, reading w once.
func dotF32x4(w, x []float32, cols int, out []float32, ostride int) {
	if !haveSIMD || cols < 8 {
		dotF32x4Go(w, x, cols, out, ostride)
		return
	}
	n := cols &^ 7
	w = w[:cols]
	x = x[:4*cols]
	out = out[:3*ostride+1]
	dotF32x4AVX2(&w[0], &x[0], cols, n, &out[0], ostride)
	for c := 0; c < 4; c++ {
		xc := x[c*cols : (c+1)*cols]
		s := out[c*ostride]
		for i := n; i < cols; i++ {
			s += float32(w[i] * xc[i])
		}
		out[c*ostride] = s
	}
}

// dotF16x4 is dotF32x4 for binary16 weights.
func dotF16x4(w []byte, x []float32, cols int, out []float32, ostride int) {
	if !haveSIMD || cols < 8 {
		dotF16x4Go(w, x, cols, out, ostride)
		return
	}
	n := cols &^ 7
	w = w[:2*cols]
	x = x[:4*cols]
	out = out[:3*ostride+1]
	dotF16x4AVX2(&w[0], &x[0], cols, n, &out[0], ostride)
	t := f16Table()
	for c := 0; c < 4; c++ {
		xc := x[c*cols : (c+1)*cols]
		s := out[c*ostride]
		for i := n; i < cols; i++ {
			s += float32(t[le16(w[2*i:])] * xc[i])
		}
		out[c*ostride] = s
	}
}

// dotBF16x4 is dotF32x4 for bfloat16 weights.
func dotBF16x4(w []byte, x []float32, cols int, out []float32, ostride int) {
	if !haveSIMD || cols < 8 {
		dotBF16x4Go(w, x, cols, out, ostride)
		return
	}
	n := cols &^ 7
	w = w[:2*cols]
	x = x[:4*cols]
	out = out[:3*ostride+1]
	dotBF16x4AVX2(&w[0], &x[0], cols, n, &out[0], ostride)
	for c := 0; c < 4; c++ {
		xc := x[c*cols : (c+1)*cols]
		s := out[c*ostride]
		for i := n; i < cols; i++ {
			s += float32(bf16ToF32(le16(w[2*i:])) * xc[i])
		}
		out[c*ostride] = s
	}
}

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

// dotQ4Kx4 dispatches the four-column Q4_K kernel (see dotQ8_0x4).
func dotQ4Kx4(w []byte, xq []int8, xd []float32, bsums []int16, cols, nb int, out *[4]float32) {
	if haveSIMD {
		dotQ4Kx4AVX2Go(w, xq, xd, bsums, cols, nb, out)
	} else {
		dotQ4Kx4Go(w, xq, xd, bsums, cols, nb, out)
	}
}

// dotQ6Kx4 dispatches the four-column Q6_K kernel (see dotQ8_0x4).
func dotQ6Kx4(w []byte, xq []int8, xd []float32, bsums []int16, cols, nb int, out *[4]float32) {
	if haveSIMD {
		dotQ6Kx4AVX2Go(w, xq, xd, bsums, cols, nb, out)
	} else {
		dotQ6Kx4Go(w, xq, xd, bsums, cols, nb, out)
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
func dotF32x4AVX2(w *float32, x *float32, xstride int, n int, out *float32, ostride int)

//go:noescape
func dotF16x4AVX2(w *byte, x *float32, xstride int, n int, out *float32, ostride int)

//go:noescape
func dotBF16x4AVX2(w *byte, x *float32, xstride int, n int, out *float32, ostride int)

//go:noescape
func dotQ8_0AVX2(w *byte, xq *int8, xd *float32, nb int) float32

//go:noescape
func dotQ4_0AVX2(w *byte, xq *int8, xd *float32, nb int) float32

//go:noescape
func dotQ8_0x4AVX2(w *byte, xq *int8, xstride int, xd *float32, dstride int, nb int, out *[4]float32)

//go:noescape
func dotQ4_0x4AVX2(w *byte, xq *int8, xstride int, xd *float32, dstride int, nb int, out *[4]float32)

//go:noescape
func dotQ4KAVX2(w *byte, xq *int8, xd *float32, bsums *int16, nb int) float32

//go:noescape
func dotQ6KAVX2(w *byte, xq *int8, xd *float32, bsums *int16, nb int) float32

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

// dotQ4KAVX2Go checks bounds and runs the Q4_K assembly kernel, which
// performs dotQ4KGo's operations in dotQ4KGo's order (bitwise equal).
func dotQ4KAVX2Go(w []byte, xq []int8, xd []float32, bsums []int16) float32 {
	nb := len(xd)
	if nb == 0 {
		return 0
	}
	_ = w[nb*blockQ4KBytes-1]
	_ = xq[nb*qkK-1]
	_ = bsums[nb*qkK/16-1]
	return dotQ4KAVX2(&w[0], &xq[0], &xd[0], &bsums[0], nb)
}

// dotQ6KAVX2Go checks bounds and runs the Q6_K assembly kernel (bitwise
// equal to dotQ6KGo).
func dotQ6KAVX2Go(w []byte, xq []int8, xd []float32, bsums []int16) float32 {
	nb := len(xd)
	if nb == 0 {
		return 0
	}
	_ = w[nb*blockQ6KBytes-1]
	_ = xq[nb*qkK-1]
	_ = bsums[nb*qkK/16-1]
	return dotQ6KAVX2(&w[0], &xq[0], &xd[0], &bsums[0], nb)
}

//go:noescape
func dotQ4Kx4AVX2(w *byte, xq *int8, xstride int, xd *float32, dstride int, bsums *int16, nb int, out *[4]float32)

// dotQ4Kx4AVX2Go checks the bounds of four activation columns (column c at
// xq[c*cols:], xd[c*nb:], bsums[c*cols/16:]) and runs the four-column kernel.
func dotQ4Kx4AVX2Go(w []byte, xq []int8, xd []float32, bsums []int16, cols, nb int, out *[4]float32) {
	if nb == 0 {
		*out = [4]float32{}
		return
	}
	_ = w[nb*blockQ4KBytes-1]
	_ = xq[3*cols+nb*qkK-1]
	_ = xd[4*nb-1]
	_ = bsums[3*cols/16+nb*qkK/16-1]
	dotQ4Kx4AVX2(&w[0], &xq[0], cols, &xd[0], nb, &bsums[0], nb, out)
}

//go:noescape
func dotQ6Kx4AVX2(w *byte, xq *int8, xstride int, xd *float32, dstride int, bsums *int16, nb int, out *[4]float32)

// dotQ6Kx4AVX2Go checks the bounds of four activation columns (see
// dotQ4Kx4AVX2Go) and runs the four-column Q6_K kernel.
func dotQ6Kx4AVX2Go(w []byte, xq []int8, xd []float32, bsums []int16, cols, nb int, out *[4]float32) {
	if nb == 0 {
		*out = [4]float32{}
		return
	}
	_ = w[nb*blockQ6KBytes-1]
	_ = xq[3*cols+nb*qkK-1]
	_ = xd[4*nb-1]
	_ = bsums[3*cols/16+nb*qkK/16-1]
	dotQ6Kx4AVX2(&w[0], &xq[0], cols, &xd[0], nb, &bsums[0], nb, out)
}
