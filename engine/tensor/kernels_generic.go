//go:build purego || !amd64

package tensor

// Without assembly every kernel is the portable one.
var (
	dotF32  = dotF32Go
	dotF16  = dotF16Go
	dotBF16 = dotBF16Go
	dotQ8_0 = dotQ8_0Go
	dotQ4_0 = dotQ4_0Go
	dotQ4K  = dotQ4KGo
	dotQ6K  = dotQ6KGo
)

// haveSIMD reports whether assembly kernels are in use.
const haveSIMD = false

// dotQ8_0x4 is the four-column Q8_0 kernel.
func dotQ8_0x4(w []byte, xq []int8, xd []float32, cols, nb int, out *[4]float32) {
	dotQ8_0x4Go(w, xq, xd, cols, nb, out)
}

// dotQ4_0x4 is the four-column Q4_0 kernel.
func dotQ4_0x4(w []byte, xq []int8, xd []float32, cols, nb int, out *[4]float32) {
	dotQ4_0x4Go(w, xq, xd, cols, nb, out)
}

// dotQ4Kx4 is the four-column Q4_K kernel.
func dotQ4Kx4(w []byte, xq []int8, xd []float32, bsums []int16, cols, nb int, out *[4]float32) {
	dotQ4Kx4Go(w, xq, xd, bsums, cols, nb, out)
}

// dotQ6Kx4 is the four-column Q6_K kernel.
func dotQ6Kx4(w []byte, xq []int8, xd []float32, bsums []int16, cols, nb int, out *[4]float32) {
	dotQ6Kx4Go(w, xq, xd, bsums, cols, nb, out)
}

// dotF32x4 is the four-column F32 kernel.
func dotF32x4(w, x []float32, cols int, out []float32, ostride int) {
	dotF32x4Go(w, x, cols, out, ostride)
}

// dotF16x4 is the four-column F16 kernel.
func dotF16x4(w []byte, x []float32, cols int, out []float32, ostride int) {
	dotF16x4Go(w, x, cols, out, ostride)
}

// dotBF16x4 is the four-column BF16 kernel.
func dotBF16x4(w []byte, x []float32, cols int, out []float32, ostride int) {
	dotBF16x4Go(w, x, cols, out, ostride)
}

// haveVNNI reports whether the AVX-512 VNNI kernels are in use.
const haveVNNI = false

// quantizeActQ8_0VNNI is never called without the VNNI kernels.
func quantizeActQ8_0VNNI(x []float32, qs []int8, d []float32, nc []int32, k int32) {
	panic("tensor: VNNI kernels unavailable")
}

// vnniRows computes nothing without the VNNI kernels.
func (a *mmArgs) vnniRows(part *mmPart, lo, hi int) int { return lo }

func dotsF32(q, k []float32, stride int, out []float32) { dotsF32Go(q, k, stride, out) }

func mixF32(y, w, v []float32, stride int) { mixF32Go(y, w, v, stride) }

func expF32(x []float32, shift float32) { expF32Go(x, shift) }

func swiGLUF32(g, u []float32) { swiGLUF32Go(g, u) }

func scaleMaxF32(x []float32, scale float32) float32 { return scaleMaxF32Go(x, scale) }

func expSumF32(x []float32, shift float32) float64 { return expSumF32Go(x, shift) }

func scaleF32(x []float32, a float32) { scaleF32Go(x, a) }

// floatRows does nothing without assembly kernels.
func (a *mmArgs) floatRows(part *mmPart, lo, hi int) bool { return false }

// vnniKRows computes nothing without the VNNI kernels.
func (a *mmArgs) vnniKRows(part *mmPart, lo, hi int) int { return lo }

// quantizeActQ8KVNNI is never called without the VNNI kernels.
func quantizeActQ8KVNNI(x []float32, qs []int8, d []float32, bsums []int16) {
	panic("tensor: VNNI kernels unavailable")
}
