//go:build !purego

package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
)

// actCases are activation vectors that exercise the quantiser's edges: a
// gaussian, an all-zero block (scale 0), exact ties of the rounding (values
// at k+0.5 times the scale, both signs) and one huge outlier per block.
func actCases(r *rand.Rand, n int) map[string][]float32 {
	gauss := randVec(r, n, 1)
	zeros := randVec(r, n, 1)
	clear(zeros[n-32:]) // the last block
	ties := make([]float32, n)
	for i := range ties {
		// amax = 127 makes the scale exactly 1, so x·id = x.
		ties[i] = float32(i%64)/2 - 16
		if i%32 == 0 {
			ties[i] = 127
		}
	}
	outlier := randVec(r, n, 0.01)
	for i := 0; i < n; i += 32 {
		outlier[i+r.IntN(32)] = -1e4
	}
	return map[string][]float32{"gauss": gauss, "zeros": zeros, "ties": ties, "outlier": outlier}
}

// TestVNNIQuantMatchesPortable: the AVX-512 activation quantiser gives
// bitwise the quants and scales of quantizeActQ8_0, and the block biases
// −k·Σq computed here from those quants.
func TestVNNIQuantMatchesPortable(t *testing.T) {
	if !haveVNNI {
		t.Skip("CPU lacks AVX-512 VNNI")
	}
	r := rand.New(rand.NewPCG(21, 22))
	const n = 8 * 32
	for name, x := range actCases(r, n) {
		wantQ, wantD := make([]int8, n), make([]float32, n/32)
		quantizeActQ8_0(x, wantQ, wantD)
		for _, k := range []int32{128, 8} {
			q, d, nc := make([]int8, n), make([]float32, n/32), make([]int32, n/32)
			quantizeActQ8_0VNNI(x, q, d, nc, k)
			for i := range q {
				if q[i] != wantQ[i] {
					t.Fatalf("%s: quant %d = %d, want %d (x %v, scale %v)", name, i, q[i], wantQ[i], x[i], wantD[i/32])
				}
			}
			for i := range d {
				if math.Float32bits(d[i]) != math.Float32bits(wantD[i]) {
					t.Fatalf("%s: scale %d = %v, want %v", name, i, d[i], wantD[i])
				}
				var s int32
				for _, v := range wantQ[32*i : 32*i+32] {
					s += int32(v)
				}
				if nc[i] != -k*s {
					t.Fatalf("%s k %d: bias %d = %d, want %d", name, k, i, nc[i], -k*s)
				}
			}
		}
	}
}

// TestVNNIMatMulMatchesPortable: MatMul through the VNNI tile kernels is
// bitwise what the portable kernels give on the same quantised activations
// (the integer sums are exact and the float combination is the same), for
// whole tiles and tails, every batch size (above 64 columns the K-quant
// tiles take the columns in two calls), and Q8_0 weights holding −128
// (which ggml's quantiser never writes but a file may).
func TestVNNIMatMulMatchesPortable(t *testing.T) {
	if !haveVNNI {
		t.Skip("CPU lacks AVX-512 VNNI")
	}
	p := newPool(2, true)
	defer p.Close()
	if !p.vnni {
		t.Fatal("pool does not use the VNNI kernels")
	}
	for _, typ := range []gguf.TensorType{gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ4_K, gguf.TypeQ6_K} {
		shapes := [][2]int{{16, 32}, {37, 96}, {64, 576}, {5, 64}}
		if actBlock(typ) == qkK {
			shapes = [][2]int{{16, 256}, {37, 512}, {48, 1536}, {5, 256}}
		}
		for _, shape := range shapes {
			for _, batch := range []int{1, 3, 8, 17, 70} {
				rows, cols := shape[0], shape[1]
				t.Run(fmt.Sprintf("%v/%dx%d/b%d", typ, rows, cols, batch), func(t *testing.T) {
					r := rand.New(rand.NewPCG(uint64(rows), uint64(batch)))
					m := randMatrix(t, r, typ, rows, cols)
					if typ == gguf.TypeQ8_0 {
						for i := 0; i < len(m.Data); i += 7 {
							if i%blockQ8_0Bytes >= 2 {
								m.Data[i] = 0x80 // −128
							}
						}
					}
					for name, x := range actCases(r, batch*cols) {
						out := make([]float32, batch*rows)
						p.MatMul(m, x, batch, out)
						rb := m.RowBytes()
						want := func(row, b int) float32 {
							w := m.Data[row*rb : (row+1)*rb]
							if actBlock(typ) == qk8_0 {
								nb := cols / qk8_0
								qs, d := make([]int8, cols), make([]float32, nb)
								quantizeActQ8_0(x[b*cols:(b+1)*cols], qs, d)
								if typ == gguf.TypeQ4_0 {
									return dotQ4_0Go(w, qs, d)
								}
								return dotQ8_0Go(w, qs, d)
							}
							nb := cols / qkK
							qs, d, bs := make([]int8, cols), make([]float32, nb), make([]int16, cols/16)
							quantizeActQ8K(x[b*cols:(b+1)*cols], qs, d, bs)
							if typ == gguf.TypeQ6_K {
								return dotQ6KGo(w, qs, d, bs)
							}
							return dotQ4KGo(w, qs, d, bs)
						}
						for b := 0; b < batch; b++ {
							for row := 0; row < rows; row++ {
								w := want(row, b)
								if got := out[b*rows+row]; math.Float32bits(got) != math.Float32bits(w) {
									t.Fatalf("%s: column %d row %d: VNNI %v, portable %v", name, b, row, got, w)
								}
							}
						}
					}
				})
			}
		}
	}
}

// TestVNNIQuantQ8KMatchesPortable: the AVX-512 Q8_K quantiser gives bitwise
// quantizeActQ8K's quants, scales and sums of 16, including an all-zero
// block and blocks whose largest magnitude occurs with both signs (the
// first occurrence sets the sign of the scale).
func TestVNNIQuantQ8KMatchesPortable(t *testing.T) {
	if !haveVNNI {
		t.Skip("CPU lacks AVX-512 VNNI")
	}
	r := rand.New(rand.NewPCG(23, 24))
	const n = 6 * qkK
	cases := actCases(r, n)
	zero := randVec(r, n, 1)
	clear(zero[qkK : 2*qkK])
	cases["zero block"] = zero
	signs := randVec(r, n, 1)
	for b := 0; b < n; b += qkK {
		i, j := b+r.IntN(qkK/2), b+qkK/2+r.IntN(qkK/2)
		signs[i], signs[j] = 9, -9 // +9 first
		if b%(2*qkK) == 0 {
			signs[i], signs[j] = -9, 9 // −9 first
		}
	}
	cases["both signs"] = signs
	for name, x := range cases {
		wq, wd, ws := make([]int8, n), make([]float32, n/qkK), make([]int16, n/16)
		quantizeActQ8K(x, wq, wd, ws)
		q, d, s := make([]int8, n), make([]float32, n/qkK), make([]int16, n/16)
		quantizeActQ8KVNNI(x, q, d, s)
		for i := range q {
			if q[i] != wq[i] {
				t.Fatalf("%s: quant %d = %d, want %d", name, i, q[i], wq[i])
			}
		}
		for i := range d {
			if math.Float32bits(d[i]) != math.Float32bits(wd[i]) {
				t.Fatalf("%s: scale %d = %v, want %v", name, i, d[i], wd[i])
			}
		}
		for i := range s {
			if s[i] != ws[i] {
				t.Fatalf("%s: sum %d = %d, want %d", name, i, s[i], ws[i])
			}
		}
	}
}
