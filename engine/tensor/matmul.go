package tensor

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"github.com/baco-go/baco/engine/gguf"
)

// mmPart is one matrix of a MatMul or MatMuls call.
type mmPart struct {
	m     *Matrix
	out   []float32
	rb    int       // bytes per weight row
	start int       // first row of the call's row space (a multiple of rowAlign)
	wf32  []float32 // F32 weights viewed in place, when aligned
	nc    []int32   // VNNI biases matching the part's type
}

// mmArgs is the state of one MatMul or MatMuls call, including the scratch
// buffers for the quantised activations, which are kept (and only grown)
// across calls. The matrices' rows are laid end to end, each starting on a
// multiple of rowAlign, and the pool splits that row space.
type mmArgs struct {
	parts []mmPart
	x     []float32
	batch int
	// Q8_0 activations, for Q8_0 and Q4_0 weights.
	qs   []int8
	d    []float32
	nc   []int32 // VNNI: −128·Σ quants per block (Q8_0 weights)
	nc8  []int32 // VNNI: −8·Σ quants per block (Q4_0 weights)
	vnni bool    // Q8_0/Q4_0 through the VNNI tile kernels
	// Q8_K activations, for K-quant weights.
	kqs   []int8
	kd    []float32
	bsums []int16 // sums of 16 quants
}

func (a *mmArgs) clearRefs() {
	for i := range a.parts {
		a.parts[i] = mmPart{}
	}
	a.parts = a.parts[:0]
	a.x = nil
	a.vnni = false
}

// rowAlign is the granularity of the row split: 16 float32 outputs fill a
// 64-byte cache line, so workers do not share output lines.
const rowAlign = 16

// minParallelMACs is the least work (multiply-adds) a call must have to be
// split across the pool: below it, handing chunks to other goroutines costs
// more than computing them on the caller.
const minParallelMACs = 1 << 17

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
	j := p.getJob()
	j.mm.add(m, out, batch)
	p.matmul(j, x, batch)
	p.putJob(j)
}

// MatMuls computes outs[i] = ms[i]·x for every i, as MatMul does for each,
// in one pass of the pool: x is quantised once per activation format the
// types need, and the rows of all the matrices are split across the
// workers together. The matrices must have the same number of columns. It
// suits products that share an input, such as the query, key and value
// projections. Each output is bitwise what MatMul gives.
//
// MatMuls panics, as MatMul does, on a matrix, x or output that does not
// fit, and when len(outs) != len(ms) or the column counts differ.
func (p *Pool) MatMuls(ms []*Matrix, x []float32, batch int, outs [][]float32) {
	if len(ms) != len(outs) {
		panic(fmt.Sprintf("tensor: MatMuls: %d matrices, %d outputs", len(ms), len(outs)))
	}
	if batch <= 0 || len(ms) == 0 {
		return
	}
	for _, m := range ms[1:] {
		if m.Cols != ms[0].Cols {
			panic(fmt.Sprintf("tensor: MatMuls: matrices of %d and %d columns", ms[0].Cols, m.Cols))
		}
	}
	j := p.getJob()
	for i, m := range ms {
		j.mm.add(m, outs[i], batch)
	}
	p.matmul(j, x, batch)
	p.putJob(j)
}

// add appends matrix m with output out to the call, checking that they fit.
func (a *mmArgs) add(m *Matrix, out []float32, batch int) {
	rb, err := rowBytes(m.Type, m.Cols)
	if err != nil {
		panic(fmt.Sprintf("tensor: MatMul: %v", err))
	}
	if m.Rows < 0 || len(m.Data) != rb*m.Rows {
		panic(fmt.Sprintf("tensor: MatMul: %v matrix %dx%d has %d data bytes, want %d", m.Type, m.Rows, m.Cols, len(m.Data), rb*m.Rows))
	}
	if len(out) < batch*m.Rows {
		panic(fmt.Sprintf("tensor: MatMul: batch %d needs out of %d, got %d", batch, batch*m.Rows, len(out)))
	}
	start := 0
	if n := len(a.parts); n > 0 {
		last := &a.parts[n-1]
		start = last.start + (last.m.Rows+rowAlign-1)/rowAlign*rowAlign
	}
	part := mmPart{m: m, out: out[:batch*m.Rows], rb: rb, start: start}
	if m.Type == gguf.TypeF32 && littleEndian && uintptr(unsafe.Pointer(unsafe.SliceData(m.Data)))%4 == 0 {
		part.wf32 = unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(m.Data))), m.Rows*m.Cols)
	}
	a.parts = append(a.parts, part)
}

// matmul quantises x as the parts of j need and runs j over their rows.
func (p *Pool) matmul(j *job, x []float32, batch int) {
	a := &j.mm
	cols := a.parts[0].m.Cols
	if len(x) < batch*cols {
		panic(fmt.Sprintf("tensor: MatMul: batch %d needs x of %d, got %d", batch, batch*cols, len(x)))
	}
	a.x, a.batch, a.vnni = x[:batch*cols], batch, p.vnni
	var q8, q4, kq bool
	rows, macs := 0, 0
	for _, part := range a.parts {
		switch part.m.Type {
		case gguf.TypeQ8_0:
			q8 = true
		case gguf.TypeQ4_0:
			q4 = true
		case gguf.TypeQ4_K, gguf.TypeQ6_K:
			kq = true
		}
		rows = part.start + part.m.Rows
		macs += part.m.Rows * cols * batch
	}
	if q8 || q4 {
		nb := batch * cols / qk8_0
		a.qs, a.d = grow(a.qs, batch*cols), grow(a.d, nb)
		if p.vnni {
			a.nc = grow(a.nc, nb)
			quantizeActQ8_0VNNI(a.x, a.qs, a.d, a.nc, 128)
			if q4 {
				// Q4_0 nibbles are biased by 8, not 128: Σ·8 = Σ·128/16.
				a.nc8 = grow(a.nc8, nb)
				for i, v := range a.nc {
					a.nc8[i] = v / 16
				}
			}
			for i := range a.parts {
				switch a.parts[i].m.Type {
				case gguf.TypeQ8_0:
					a.parts[i].nc = a.nc
				case gguf.TypeQ4_0:
					a.parts[i].nc = a.nc8
				}
			}
		} else {
			quantizeActQ8_0(a.x, a.qs, a.d)
		}
	}
	if kq {
		a.kqs, a.kd, a.bsums = grow(a.kqs, batch*cols), grow(a.kd, batch*cols/qkK), grow(a.bsums, batch*cols/16)
		if p.vnni {
			quantizeActQ8KVNNI(a.x, a.kqs, a.kd, a.bsums)
		} else {
			quantizeActQ8K(a.x, a.kqs, a.kd, a.bsums)
		}
	}
	if rows == 0 {
		return
	}
	if macs < minParallelMACs {
		a.run(0, rows)
		return
	}
	p.run(j, rows, rowAlign)
}

// grow returns s resized to n, reallocating only when it is too small.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// run computes rows [lo,hi) of the call's row space for all batch columns.
func (a *mmArgs) run(lo, hi int) {
	for i := range a.parts {
		part := &a.parts[i]
		s, e := max(lo, part.start), min(hi, part.start+part.m.Rows)
		if s < e {
			a.runPart(part, s-part.start, e-part.start)
		}
	}
}

// runPart computes rows [lo,hi) of one matrix for all batch columns.
func (a *mmArgs) runPart(part *mmPart, lo, hi int) {
	m, rb, cols, rows, batch := part.m, part.rb, part.m.Cols, part.m.Rows, a.batch
	x, out := a.x, part.out
	switch m.Type {
	case gguf.TypeF32:
		if a.floatRows(part, lo, hi) {
			return
		}
		for r := lo; r < hi; r++ {
			if part.wf32 == nil {
				w := m.Data[r*rb : (r+1)*rb]
				for b := 0; b < batch; b++ {
					out[b*rows+r] = dotF32Bytes(w, x[b*cols:(b+1)*cols])
				}
				continue
			}
			w := part.wf32[r*cols : (r+1)*cols]
			b := 0
			for ; b+4 <= batch; b += 4 {
				dotF32x4(w, x[b*cols:(b+4)*cols], cols, out[b*rows+r:], rows)
			}
			for ; b < batch; b++ {
				out[b*rows+r] = dotF32(w, x[b*cols:(b+1)*cols])
			}
		}
	case gguf.TypeF16, gguf.TypeBF16:
		if a.floatRows(part, lo, hi) {
			return
		}
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
			for r := a.vnniRows(part, lo, hi); r < hi; r++ {
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
		if a.vnni {
			// Whole tiles in the VNNI kernels, the rest below: all the
			// K-quant kernels are bitwise dotQ4KGo/dotQ6KGo.
			lo = a.vnniKRows(part, lo, hi)
		}
		var res [4]float32
		for r := lo; r < hi; r++ {
			w := m.Data[r*rb : (r+1)*rb]
			b := 0
			for ; b+4 <= batch; b += 4 {
				xq, xd, bs := a.kqs[b*cols:(b+4)*cols], a.kd[b*nb:(b+4)*nb], a.bsums[b*cols/16:(b+4)*cols/16]
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
				out[b*rows+r] = dot(w, a.kqs[b*cols:(b+1)*cols], a.kd[b*nb:(b+1)*nb], a.bsums[b*cols/16:(b+1)*cols/16])
			}
		}
	}
}
