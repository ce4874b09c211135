package tensor

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"github.com/baco-go/baco/engine/gguf"
)

// mmArgs is the state of one MatMul call, including the scratch buffers for
// the quantised activations, which are kept (and only grown) across calls.
type mmArgs struct {
	m     *Matrix
	x     []float32
	out   []float32
	batch int
	rb    int       // bytes per weight row
	wf32  []float32 // F32 weights viewed in place, when aligned
	qs    []int8    // quantised activations, batch*Cols
	d     []float32 // activation block scales
	bsums []int16   // Q8_K sums of 16 quants
	nc    []int32   // VNNI: −K·Σ quants per activation block
	vnni  bool      // Q8_0/Q4_0 through the VNNI tile kernels
}

func (a *mmArgs) clearRefs() {
	a.m, a.x, a.out, a.wf32 = nil, nil, nil, nil
	a.vnni = false
}

// rowAlign is the granularity of the row split: 16 float32 outputs fill a
// 64-byte cache line, so workers do not share output lines.
const rowAlign = 16

// littleEndian reports whether float32 weights can be read in place.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// MatMul computes out[b*m.Rows + r] = Σ_c m[r,c]·x[b*m.Cols + c] for every
// batch column b in [0,batch), splitting the rows across the pool. Each weight
// row is read once and dotted with all batch columns while it is in cache.
//
// For Q8_0 and Q4_0 weights x is quantised once per call to Q8_0 blocks
// (int8, one float32 scale per 32), for Q4_K and Q6_K to Q8_K super-blocks,
// and the dot products run on the integers with the block scales applied
// afterwards; F32, F16 and BF16 weights are dotted in float32. The result of a
// column does not depend on batch or on the number of workers.
//
// MatMul panics if m's type is unsupported, if m.Data is not Rows encoded rows,
// or if x or out are shorter than batch columns: these are errors of the
// caller (FromTensor validates what comes from a file).
func (p *Pool) MatMul(m *Matrix, x []float32, batch int, out []float32) {
	if batch <= 0 {
		return
	}
	rb, err := rowBytes(m.Type, m.Cols)
	if err != nil {
		panic(fmt.Sprintf("tensor: MatMul: %v", err))
	}
	if m.Rows < 0 || len(m.Data) != rb*m.Rows {
		panic(fmt.Sprintf("tensor: MatMul: %v matrix %dx%d has %d data bytes, want %d", m.Type, m.Rows, m.Cols, len(m.Data), rb*m.Rows))
	}
	if len(x) < batch*m.Cols || len(out) < batch*m.Rows {
		panic(fmt.Sprintf("tensor: MatMul: batch %d needs x of %d and out of %d, got %d and %d", batch, batch*m.Cols, batch*m.Rows, len(x), len(out)))
	}
	if m.Rows == 0 {
		return
	}
	j := p.getJob()
	a := &j.mm
	a.m, a.x, a.out, a.batch, a.rb = m, x[:batch*m.Cols], out[:batch*m.Rows], batch, rb
	switch m.Type {
	case gguf.TypeF32:
		if littleEndian && uintptr(unsafe.Pointer(unsafe.SliceData(m.Data)))%4 == 0 {
			a.wf32 = unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(m.Data))), m.Rows*m.Cols)
		}
	case gguf.TypeQ8_0, gguf.TypeQ4_0:
		nb := batch * m.Cols / qk8_0
		if p.vnni {
			a.vnni = true
			a.grow(batch*m.Cols, nb, 0, nb)
			k := int32(128) // Q8_0 quants are biased by 128, Q4_0 nibbles by 8
			if m.Type == gguf.TypeQ4_0 {
				k = 8
			}
			quantizeActQ8_0VNNI(a.x, a.qs, a.d, a.nc, k)
		} else {
			a.grow(batch*m.Cols, nb, 0, 0)
			quantizeActQ8_0(a.x, a.qs, a.d)
		}
	case gguf.TypeQ4_K, gguf.TypeQ6_K:
		a.grow(batch*m.Cols, batch*m.Cols/qkK, batch*m.Cols/16, 0)
		quantizeActQ8K(a.x, a.qs, a.d, a.bsums)
	}
	p.run(j, m.Rows, rowAlign)
	p.putJob(j)
}

// grow sizes the scratch buffers, reallocating only when they are too small.
func (a *mmArgs) grow(nq, nd, ns, nc int) {
	if cap(a.qs) < nq {
		a.qs = make([]int8, nq)
	}
	if cap(a.d) < nd {
		a.d = make([]float32, nd)
	}
	if cap(a.bsums) < ns {
		a.bsums = make([]int16, ns)
	}
	if cap(a.nc) < nc {
		a.nc = make([]int32, nc)
	}
	a.qs, a.d, a.bsums, a.nc = a.qs[:nq], a.d[:nd], a.bsums[:ns], a.nc[:nc]
}

// run computes output rows [lo,hi) for all batch columns.
func (a *mmArgs) run(lo, hi int) {
	m, rb, cols, rows, batch := a.m, a.rb, a.m.Cols, a.m.Rows, a.batch
	x, out := a.x, a.out
	switch m.Type {
	case gguf.TypeF32:
		for r := lo; r < hi; r++ {
			if a.wf32 == nil {
				w := m.Data[r*rb : (r+1)*rb]
				for b := 0; b < batch; b++ {
					out[b*rows+r] = dotF32Bytes(w, x[b*cols:(b+1)*cols])
				}
				continue
			}
			w := a.wf32[r*cols : (r+1)*cols]
			b := 0
			for ; b+4 <= batch; b += 4 {
				dotF32x4(w, x[b*cols:(b+4)*cols], cols, out[b*rows+r:], rows)
			}
			for ; b < batch; b++ {
				out[b*rows+r] = dotF32(w, x[b*cols:(b+1)*cols])
			}
		}
	case gguf.TypeF16, gguf.TypeBF16:
		bf := m.Type == gguf.TypeBF16
		dot := dotF16
		if bf {
			dot = dotBF16
		}
		for r := lo; r < hi; r++ {
			w := m.Data[r*rb : (r+1)*rb]
			b := 0
			for ; b+4 <= batch; b += 4 {
				if bf {
					dotBF16x4(w, x[b*cols:(b+4)*cols], cols, out[b*rows+r:], rows)
				} else {
					dotF16x4(w, x[b*cols:(b+4)*cols], cols, out[b*rows+r:], rows)
				}
			}
			for ; b < batch; b++ {
				out[b*rows+r] = dot(w, x[b*cols:(b+1)*cols])
			}
		}
	case gguf.TypeQ8_0, gguf.TypeQ4_0:
		nb := cols / qk8_0
		q4 := m.Type == gguf.TypeQ4_0
		dot := dotQ8_0
		if q4 {
			dot = dotQ4_0
		}
		if a.vnni {
			// Whole tiles in the VNNI kernels, the rest in the portable
			// kernels, which combine the block sums identically.
			dot = dotQ8_0Go
			if q4 {
				dot = dotQ4_0Go
			}
			for r := a.vnniRows(lo, hi); r < hi; r++ {
				w := m.Data[r*rb : (r+1)*rb]
				for b := 0; b < batch; b++ {
					out[b*rows+r] = dot(w, a.qs[b*cols:(b+1)*cols], a.d[b*nb:(b+1)*nb])
				}
			}
			return
		}
		var res [4]float32
		for r := lo; r < hi; r++ {
			w := m.Data[r*rb : (r+1)*rb]
			b := 0
			for ; b+4 <= batch; b += 4 {
				if q4 {
					dotQ4_0x4(w, a.qs[b*cols:(b+4)*cols], a.d[b*nb:(b+4)*nb], cols, nb, &res)
				} else {
					dotQ8_0x4(w, a.qs[b*cols:(b+4)*cols], a.d[b*nb:(b+4)*nb], cols, nb, &res)
				}
				for c, v := range res {
					out[(b+c)*rows+r] = v
				}
			}
			for ; b < batch; b++ {
				out[b*rows+r] = dot(w, a.qs[b*cols:(b+1)*cols], a.d[b*nb:(b+1)*nb])
			}
		}
	case gguf.TypeQ4_K, gguf.TypeQ6_K:
		nb := cols / qkK
		q6 := m.Type == gguf.TypeQ6_K
		dot := dotQ4K
		if q6 {
			dot = dotQ6K
		}
		var res [4]float32
		for r := lo; r < hi; r++ {
			w := m.Data[r*rb : (r+1)*rb]
			b := 0
			for ; b+4 <= batch; b += 4 {
				xq, xd, bs := a.qs[b*cols:(b+4)*cols], a.d[b*nb:(b+4)*nb], a.bsums[b*cols/16:(b+4)*cols/16]
				if q6 {
					dotQ6Kx4(w, xq, xd, bs, cols, nb, &res)
				} else {
					dotQ4Kx4(w, xq, xd, bs, cols, nb, &res)
				}
				for c, v := range res {
					out[(b+c)*rows+r] = v
				}
			}
			for ; b < batch; b++ {
				out[b*rows+r] = dot(w, a.qs[b*cols:(b+1)*cols], a.d[b*nb:(b+1)*nb], a.bsums[b*cols/16:(b+1)*cols/16])
			}
		}
	}
}
