//go:build !purego

package tensor

import (
	"github.com/baco-go/baco/engine/gguf"
)

//go:noescape
func dotF32RowsAVX2(w *float32, rstride int, nrows int, x *float32, n int, out *float32)

//go:noescape
func dotF16RowsAVX2(w *byte, rstride int, nrows int, x *float32, n int, out *float32)

//go:noescape
func dotBF16RowsAVX2(w *byte, rstride int, nrows int, x *float32, n int, out *float32)

//go:noescape
func dotF32x4RowsAVX2(w *float32, rstride int, nrows int, x *float32, xstride int, n int, out *float32, ostride int)

//go:noescape
func dotF16x4RowsAVX2(w *byte, rstride int, nrows int, x *float32, xstride int, n int, out *float32, ostride int)

//go:noescape
func dotBF16x4RowsAVX2(w *byte, rstride int, nrows int, x *float32, xstride int, n int, out *float32, ostride int)

// floatRows computes rows [lo,hi) of an F32 (viewed in place), F16 or BF16
// part for every batch column with the row-looping assembly kernels and
// reports whether it did. Each result is bitwise what the per-row kernels
// give: the assembly covers the multiple-of-8 prefix of the row with their
// operations, and the tail is added here in order as they add it.
func (a *mmArgs) floatRows(part *mmPart, lo, hi int) bool {
	m, cols, rows, batch := part.m, part.m.Cols, part.m.Rows, a.batch
	n8 := cols &^ 7
	if !haveSIMD || n8 == 0 || lo >= hi || (m.Type == gguf.TypeF32 && part.wf32 == nil) {
		return false
	}
	x, out := a.x, part.out
	// Bounds of everything the kernels touch.
	_ = x[batch*cols-1]
	_ = out[(batch-1)*rows+hi-1]
	_ = m.Data[hi*part.rb-1]
	nr := hi - lo
	b := 0
	for ; b+4 <= batch; b += 4 {
		switch m.Type {
		case gguf.TypeF32:
			dotF32x4RowsAVX2(&part.wf32[lo*cols], cols*4, nr, &x[b*cols], cols, n8, &out[b*rows+lo], rows)
		case gguf.TypeF16:
			dotF16x4RowsAVX2(&m.Data[lo*part.rb], part.rb, nr, &x[b*cols], cols, n8, &out[b*rows+lo], rows)
		default:
			dotBF16x4RowsAVX2(&m.Data[lo*part.rb], part.rb, nr, &x[b*cols], cols, n8, &out[b*rows+lo], rows)
		}
	}
	for ; b < batch; b++ {
		switch m.Type {
		case gguf.TypeF32:
			dotF32RowsAVX2(&part.wf32[lo*cols], cols*4, nr, &x[b*cols], n8, &out[b*rows+lo])
		case gguf.TypeF16:
			dotF16RowsAVX2(&m.Data[lo*part.rb], part.rb, nr, &x[b*cols], n8, &out[b*rows+lo])
		default:
			dotBF16RowsAVX2(&m.Data[lo*part.rb], part.rb, nr, &x[b*cols], n8, &out[b*rows+lo])
		}
	}
	if n8 == cols {
		return true
	}
	t := f16Table()
	for r := lo; r < hi; r++ {
		for b := 0; b < batch; b++ {
			xc := x[b*cols : (b+1)*cols]
			s := out[b*rows+r]
			switch m.Type {
			case gguf.TypeF32:
				w := part.wf32[r*cols : (r+1)*cols]
				for i := n8; i < cols; i++ {
					s += float32(w[i] * xc[i])
				}
			case gguf.TypeF16:
				w := m.Data[r*part.rb : (r+1)*part.rb]
				for i := n8; i < cols; i++ {
					s += float32(t[le16(w[2*i:])] * xc[i])
				}
			default:
				w := m.Data[r*part.rb : (r+1)*part.rb]
				for i := n8; i < cols; i++ {
					s += float32(bf16ToF32(le16(w[2*i:])) * xc[i])
				}
			}
			out[b*rows+r] = s
		}
	}
	return true
}
