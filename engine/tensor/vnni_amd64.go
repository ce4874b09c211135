//go:build !purego

package tensor

import (
	"golang.org/x/sys/cpu"

	"github.com/baco-go/baco/engine/gguf"
)

// haveVNNI reports whether the AVX-512 VNNI kernels (Q8_0, Q4_0, Q4_K and
// Q6_K tiles, and the activation quantisers) can run: zmm registers
// (AVX-512 F/BW/VL, enabled by the OS) and VPDPBUSD/VPDPWSSD, plus the AVX2
// set the rest of the package uses.
var haveVNNI = haveSIMD && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW &&
	cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI

// vnniTile is the number of weight rows one VNNI kernel call computes.
const vnniTile = 16

//go:noescape
func q8TileVNNI(w *byte, rb int, xq *int8, xstride int, xd *float32, nc *int32, dstride int, nb int, batch int, out *float32, ostride int)

//go:noescape
func q4TileVNNI(w *byte, rb int, xq *int8, xstride int, xd *float32, nc *int32, dstride int, nb int, batch int, out *float32, ostride int)

//go:noescape
func quantQ8_0AVX512(x *float32, qs *int8, d *float32, nc *int32, nb int, k int32)

// quantizeActQ8_0VNNI is quantizeActQ8_0 (bitwise the same quants and
// scales) that also writes nc[i] = −k·Σ qs of block i, the bias the VNNI
// kernels remove (k = 128 for Q8_0 weights, 8 for Q4_0).
func quantizeActQ8_0VNNI(x []float32, qs []int8, d []float32, nc []int32, k int32) {
	nb := len(d)
	if nb == 0 {
		return
	}
	_ = x[nb*qk8_0-1]
	_ = qs[nb*qk8_0-1]
	_ = nc[nb-1]
	quantQ8_0AVX512(&x[0], &qs[0], &d[0], &nc[0], nb, -k)
}

// vnniRows computes the whole 16-row tiles of rows [lo,hi) of part for
// every batch column with the VNNI kernels and returns the first row it did
// not compute. a.qs, a.d and part.nc hold the activations quantised by
// quantizeActQ8_0VNNI and the biases for part's type.
func (a *mmArgs) vnniRows(part *mmPart, lo, hi int) int {
	m, rb, cols, rows, batch := part.m, part.rb, part.m.Cols, part.m.Rows, a.batch
	nb := cols / qk8_0
	if nb == 0 || hi-lo < vnniTile {
		return lo
	}
	// Bounds of everything the kernels touch, checked once.
	_ = m.Data[hi*rb-1]
	_ = a.qs[batch*cols-1]
	_ = a.d[batch*nb-1]
	_ = part.nc[batch*nb-1]
	_ = part.out[(batch-1)*rows+hi-1]
	q4 := m.Type == gguf.TypeQ4_0
	r := lo
	for ; r+vnniTile <= hi; r += vnniTile {
		if q4 {
			q4TileVNNI(&m.Data[r*rb], rb, &a.qs[0], cols, &a.d[0], &part.nc[0], nb, nb, batch, &part.out[r], rows)
		} else {
			q8TileVNNI(&m.Data[r*rb], rb, &a.qs[0], cols, &a.d[0], &part.nc[0], nb, nb, batch, &part.out[r], rows)
		}
	}
	return r
}

//go:noescape
func q4kTileVNNI(w *byte, rb int, xq *int8, xstride int, xd *float32, dstride int, bsums *int16, bstride int, nb int, batch int, out *float32, ostride int)

// vnniKCols is the most batch columns one K-quant tile call takes (its
// frame holds an integer sum per column).
const vnniKCols = 64

// vnniKRows is vnniRows for Q4_K and Q6_K weights against the Q8_K
// activations in a.kqs, a.kd and a.bsums; the results are bitwise
// dotQ4KGo's and dotQ6KGo's.
func (a *mmArgs) vnniKRows(part *mmPart, lo, hi int) int {
	m, rb, cols, rows, batch := part.m, part.rb, part.m.Cols, part.m.Rows, a.batch
	nb := cols / qkK
	if nb == 0 || hi-lo < vnniTile || (m.Type != gguf.TypeQ4_K && m.Type != gguf.TypeQ6_K) {
		return lo
	}
	q6 := m.Type == gguf.TypeQ6_K
	if q6 && batch < 2 {
		// Unpacking Q6_K for the tile costs more than it saves for one
		// column; the AVX2 kernel gives the same bits.
		return lo
	}
	_ = m.Data[hi*rb-1]
	_ = a.kqs[batch*cols-1]
	_ = a.kd[batch*nb-1]
	_ = a.bsums[batch*cols/16-1]
	_ = part.out[(batch-1)*rows+hi-1]
	r := lo
	for ; r+vnniTile <= hi; r += vnniTile {
		for c := 0; c < batch; c += vnniKCols {
			n := min(vnniKCols, batch-c)
			if q6 {
				q6kTileVNNI(&m.Data[r*rb], rb, &a.kqs[c*cols], cols, &a.kd[c*nb], nb, &a.bsums[c*cols/16], cols/16, nb, n, &part.out[c*rows+r], rows)
			} else {
				q4kTileVNNI(&m.Data[r*rb], rb, &a.kqs[c*cols], cols, &a.kd[c*nb], nb, &a.bsums[c*cols/16], cols/16, nb, n, &part.out[c*rows+r], rows)
			}
		}
	}
	return r
}

//go:noescape
func quantQ8KAVX512(x *float32, qs *int8, d *float32, bsums *int16, nb int)

// quantizeActQ8KVNNI is quantizeActQ8K in AVX-512, bitwise the same.
func quantizeActQ8KVNNI(x []float32, qs []int8, d []float32, bsums []int16) {
	nb := len(d)
	if nb == 0 {
		return
	}
	_ = x[nb*qkK-1]
	_ = qs[nb*qkK-1]
	_ = bsums[nb*qkK/16-1]
	quantQ8KAVX512(&x[0], &qs[0], &d[0], &bsums[0], nb)
}

//go:noescape
func q6kTileVNNI(w *byte, rb int, xq *int8, xstride int, xd *float32, dstride int, bsums *int16, bstride int, nb int, batch int, out *float32, ostride int)
