//go:build !purego

package tensor

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
)

// TestSIMDMatchesPortable compares every assembly kernel with its portable
// twin on the same inputs. Float kernels differ only in summation order, so
// they must agree within (n+8)·2^-24·Σ|w_i·x_i|·2 (two orders, each within
// (n+8)·2^-24·Σ|terms| of the exact sum); the K-quant kernels share their
// float code with the portable ones and must be bitwise equal.
func TestSIMDMatchesPortable(t *testing.T) {
	if !haveSIMD {
		t.Skip("CPU lacks AVX2/FMA/F16C; the portable kernels are in use")
	}
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{8, 37, 256, 576, 1000, 1536} {
		a := randVec(r, n, 1)
		b := randVec(r, n, 1)
		w16, _ := Quantize(gguf.TypeF16, a)
		wb16, _ := Quantize(gguf.TypeBF16, a)
		da := make([]float32, n)
		_ = Dequantize(gguf.TypeF16, w16, da)
		db := make([]float32, n)
		_ = Dequantize(gguf.TypeBF16, wb16, db)
		checkClose(t, "F32", n, dotF32AVX2Go(a, b), dotF32Go(a, b), a, b)
		checkClose(t, "F16", n, dotF16AVX2Go(w16, b), dotF16Go(w16, b), da, b)
		checkClose(t, "BF16", n, dotBF16AVX2Go(wb16, b), dotBF16Go(wb16, b), db, b)
	}
	for _, nb := range []int{1, 2, 3, 18, 48} {
		n := nb * 32
		x := randVec(r, n, 1)
		qs := make([]int8, n)
		d := make([]float32, nb)
		quantizeActQ8_0(x, qs, d)
		xdq := make([]float32, n)
		for i := range xdq {
			xdq[i] = float32(qs[i]) * d[i/32]
		}
		for _, typ := range []gguf.TensorType{gguf.TypeQ8_0, gguf.TypeQ4_0} {
			w, _ := Quantize(typ, randVec(r, n, 0.1))
			wd := make([]float32, n)
			_ = Dequantize(typ, w, wd)
			var simd, port float32
			if typ == gguf.TypeQ4_0 {
				simd, port = dotQ4_0AVX2Go(w, qs, d), dotQ4_0Go(w, qs, d)
			} else {
				simd, port = dotQ8_0AVX2Go(w, qs, d), dotQ8_0Go(w, qs, d)
			}
			checkClose(t, typ.String(), n, simd, port, wd, xdq)
		}
	}
	for _, nb := range []int{1, 2, 6} {
		n := nb * qkK
		x := randVec(r, n, 1)
		x[3] = 0 // exercise zeros and the extreme of the scale
		qs := make([]int8, n)
		d := make([]float32, nb)
		bs := make([]int16, n/16)
		quantizeActQ8K(x, qs, d, bs)
		for _, typ := range []gguf.TensorType{gguf.TypeQ4_K, gguf.TypeQ6_K} {
			w, _ := Quantize(typ, randVec(r, n, 0.1))
			var simd, port float32
			if typ == gguf.TypeQ6_K {
				simd, port = dotQ6KAVX2Go(w, qs, d, bs), dotQ6KGo(w, qs, d, bs)
			} else {
				simd, port = dotQ4KAVX2Go(w, qs, d, bs), dotQ4KGo(w, qs, d, bs)
			}
			if math.Float32bits(simd) != math.Float32bits(port) {
				t.Errorf("%v nb %d: SIMD %v, portable %v (want bitwise equal)", typ, nb, simd, port)
			}
		}
	}
}

func checkClose(t *testing.T, what string, n int, simd, port float32, w, x []float32) {
	t.Helper()
	var mag float64
	for i := range w {
		mag += math.Abs(float64(w[i]) * float64(x[i]))
	}
	bound := 2 * float64(n+8) * 0x1p-24 * mag
	if e := math.Abs(float64(simd) - float64(port)); !(e <= bound) {
		t.Errorf("%s n=%d: SIMD %v, portable %v, difference %g > %g", what, n, simd, port, e, bound)
	}
}

// TestFloatRowsMatchRowKernels: MatMul on F32/F16/BF16 weights, which runs
// the row-looping assembly, is bitwise the single-row kernels' result for
// every (row, column), with and without a tail of fewer than 8 columns.
func TestFloatRowsMatchRowKernels(t *testing.T) {
	if !haveSIMD {
		t.Skip("CPU lacks AVX2/FMA/F16C")
	}
	p := NewPool(2)
	defer p.Close()
	r := rand.New(rand.NewPCG(61, 62))
	for _, typ := range []gguf.TensorType{gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16} {
		for _, cols := range []int{8, 64, 100, 172} {
			const rows, batch = 37, 6
			m := randMatrix(t, r, typ, rows, cols)
			x := randVec(r, batch*cols, 1)
			out := make([]float32, batch*rows)
			p.MatMul(m, x, batch, out)
			rb := m.RowBytes()
			for row := 0; row < rows; row++ {
				w := m.Data[row*rb : (row+1)*rb]
				for b := 0; b < batch; b++ {
					xc := x[b*cols : (b+1)*cols]
					var want float32
					switch typ {
					case gguf.TypeF32:
						wf := make([]float32, cols)
						_ = Dequantize(typ, w, wf)
						want = dotF32AVX2Go(wf, xc)
					case gguf.TypeF16:
						want = dotF16AVX2Go(w, xc)
					default:
						want = dotBF16AVX2Go(w, xc)
					}
					if got := out[b*rows+row]; math.Float32bits(got) != math.Float32bits(want) {
						t.Fatalf("%v cols %d: row %d column %d = %v, row kernel %v", typ, cols, row, b, got, want)
					}
				}
			}
		}
	}
}
