package tensor

import (
	"fmt"

	"github.com/baco-go/baco/engine/gguf"
	"math/rand/v2"
	"testing"
)

// BenchmarkMatMul measures MatMul on SmolLM2-135M shapes with a pool sized to
// the cores. The bytes reported are the weight bytes streamed per call, so
// MB/s is the weight bandwidth. 576 columns is not a whole number of K-quant
// super-blocks (ggml stores such tensors in other types), so K-quants are
// measured on the 576×1536 ffn_down shape only. On a CPU with AVX-512 VNNI,
// the quantised types are also measured with the AVX2 kernels (suffix
// /avx2).
func BenchmarkMatMul(b *testing.B) {
	p := NewPool(0)
	defer p.Close()
	pAVX2 := newPool(0, false)
	defer pAVX2.Close()
	shapes := [][2]int{{576, 576}, {1536, 576}, {576, 1536}}
	for _, typ := range allTypes {
		pools := map[string]*Pool{"": p}
		if p.vnni && typ != gguf.TypeF32 && typ != gguf.TypeF16 && typ != gguf.TypeBF16 {
			pools["/avx2"] = pAVX2
		}
		for _, sh := range shapes {
			rows, cols := sh[0], sh[1]
			if _, err := rowBytes(typ, cols); err != nil {
				continue
			}
			for _, batch := range []int{1, 8, 64} {
				for suffix, p := range pools {
					b.Run(fmt.Sprintf("%v/%dx%d/b%d%s", typ, rows, cols, batch, suffix), func(b *testing.B) {
						r := rand.New(rand.NewPCG(1, 1))
						m := randMatrix(b, r, typ, rows, cols)
						x := randVec(r, batch*cols, 1)
						out := make([]float32, batch*rows)
						b.SetBytes(int64(len(m.Data)))
						b.ResetTimer()
						for b.Loop() {
							p.MatMul(m, x, batch, out)
						}
					})
				}
			}
		}
	}
}

// BenchmarkParallelOverhead measures the cost of one Parallel dispatch with
// an empty body: the fixed price every MatMul pays.
func BenchmarkParallelOverhead(b *testing.B) {
	p := NewPool(0)
	defer p.Close()
	fn := func(lo, hi int) {}
	for b.Loop() {
		p.Parallel(1024, fn)
	}
}

// BenchmarkParallelAfterGap measures a Parallel dispatch that follows some
// work on the caller alone, as in a forward pass, where the workers may go
// to sleep in between. Each of the two chunks spins about a microsecond.
// The serial variant runs both chunks on the caller: the hand-off costs
// about pool − serial + one chunk.
func BenchmarkParallelAfterGap(b *testing.B) {
	p := NewPool(2)
	defer p.Close()
	spin := func(n int) float32 {
		s := float32(1)
		for i := 0; i < n; i++ {
			s = s*0.999 + 1
		}
		return s
	}
	var res [2]float32
	fn := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			res[i] += spin(500)
		}
	}
	for _, gap := range []int{0, 2000, 10000} {
		for _, serial := range []bool{false, true} {
			name := fmt.Sprintf("gap%d/pool", gap)
			if serial {
				name = fmt.Sprintf("gap%d/serial", gap)
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					res[0] += spin(gap)
					if serial {
						fn(0, 2)
					} else {
						p.Parallel(2, fn)
					}
				}
			})
		}
	}
}

// BenchmarkMatMulDRAM streams a matrix far larger than the caches
// (8192×1536), where MatMul is bound by memory bandwidth. On a CPU with
// AVX-512 VNNI, the quantised types are also measured with the AVX2
// kernels.
func BenchmarkMatMulDRAM(b *testing.B) {
	p := NewPool(0)
	defer p.Close()
	pAVX2 := newPool(0, false)
	defer pAVX2.Close()
	const rows, cols = 8192, 1536
	for _, typ := range allTypes {
		pools := map[string]*Pool{"": p}
		if p.vnni && typ != gguf.TypeF32 && typ != gguf.TypeF16 && typ != gguf.TypeBF16 {
			pools["/avx2"] = pAVX2
		}
		for suffix, p := range pools {
			b.Run(typ.String()+suffix, func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 1))
				m := randMatrix(b, r, typ, rows, cols)
				x := randVec(r, cols, 1)
				out := make([]float32, rows)
				b.SetBytes(int64(len(m.Data)))
				b.ResetTimer()
				for b.Loop() {
					p.MatMul(m, x, 1, out)
				}
			})
		}
	}
}
