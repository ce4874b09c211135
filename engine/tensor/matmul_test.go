package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
	"go.uber.org/goleak"
)

var allTypes = []gguf.TensorType{gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16, gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ4_K, gguf.TypeQ6_K}

func randVec(r *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * scale)
	}
	return v
}

// randMatrix quantises a gaussian rows×cols matrix to typ.
func randMatrix(t testing.TB, r *rand.Rand, typ gguf.TensorType, rows, cols int) *Matrix {
	t.Helper()
	data, err := Quantize(typ, randVec(r, rows*cols, 0.05))
	if err != nil {
		t.Fatal(err)
	}
	return &Matrix{Type: typ, Rows: rows, Cols: cols, Data: data}
}

// actBlock is the activation quantisation block of a weight type (0: none).
func actBlock(typ gguf.TensorType) int {
	switch typ {
	case gguf.TypeQ8_0, gguf.TypeQ4_0:
		return qk8_0
	case gguf.TypeQ4_K, gguf.TypeQ6_K:
		return qkK
	}
	return 0
}

// refMatMul computes the product in float64 on the dequantised weights and
// returns, per output, the error bound the kernels must meet:
//
//   - activation quantisation (quantised types only): every element of an
//     activation block of B elements is rounded to the nearest multiple of
//     d = max|x_block|/127, an error of at most d/2; Q8_0 blocks then carry
//     d rounded to fp16 (relative error ≤ 2^-11), which moves q·d by at most
//     127·d·2^-11 = max|x_block|·2^-11 more. So the output moves by at most
//     Σ_blocks (d/2 + max|x_block|·2^-11)·Σ_{c in block} |w_c|;
//   - float32 arithmetic: each product and each addition of a sum of n terms
//     rounds with relative error 2^-24, so with the per-block scale products
//     the accumulated error is below (n+8)·2^-24·Σ|w_c|·|x_c| where x_c is
//     taken after quantisation, hence |x_c| ≤ max|x_block|.
func refMatMul(m *Matrix, x []float32, batch int) (want, bound []float64) {
	w := make([]float32, m.Rows*m.Cols)
	if err := Dequantize(m.Type, m.Data, w); err != nil {
		panic(err)
	}
	blk := actBlock(m.Type)
	want = make([]float64, batch*m.Rows)
	bound = make([]float64, batch*m.Rows)
	for b := 0; b < batch; b++ {
		xb := x[b*m.Cols : (b+1)*m.Cols]
		for r := 0; r < m.Rows; r++ {
			wr := w[r*m.Cols : (r+1)*m.Cols]
			var s, quant, mag float64
			for c := range wr {
				s += float64(wr[c]) * float64(xb[c])
				mag += math.Abs(float64(wr[c]) * float64(xb[c]))
			}
			if blk > 0 {
				for c0 := 0; c0 < m.Cols; c0 += blk {
					var amax, sw float64
					for c := c0; c < c0+blk; c++ {
						amax = math.Max(amax, math.Abs(float64(xb[c])))
						sw += math.Abs(float64(wr[c]))
					}
					quant += (amax/127/2 + amax*0x1p-11) * sw
					mag += amax * sw // covers |x̂| ≤ amax
				}
			}
			want[b*m.Rows+r] = s
			bound[b*m.Rows+r] = quant + float64(m.Cols+8)*0x1p-24*mag
		}
	}
	return want, bound
}

// kernelSets are the kernel choices MatMul can make on this CPU: the AVX2
// (or portable) kernels, and the AVX-512 VNNI kernels where the CPU has them.
func kernelSets() []bool {
	if haveVNNI {
		return []bool{false, true}
	}
	return []bool{false}
}

// TestMatMulMatchesFloat64 checks every type against a float64 product of the
// dequantised weights within the bound derived in refMatMul.
func TestMatMulMatchesFloat64(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, workers := range []int{1, 3} {
		for _, vnni := range kernelSets() {
			p := newPool(workers, vnni)
			for _, typ := range allTypes {
				for _, shape := range [][2]int{{37, 512}, {16, 256}, {1, 768}} {
					r := rand.New(rand.NewPCG(uint64(typ), uint64(shape[0])))
					rows, cols, batch := shape[0], shape[1], 5 // one four-column pass and a single column
					m := randMatrix(t, r, typ, rows, cols)
					x := randVec(r, batch*cols, 1)
					out := make([]float32, batch*rows)
					p.MatMul(m, x, batch, out)
					want, bound := refMatMul(m, x, batch)
					for i := range out {
						if e := math.Abs(float64(out[i]) - want[i]); !(e <= bound[i]) {
							t.Errorf("%v %dx%d workers %d vnni %v: out[%d] = %v, want %v ± %g (error %g)", typ, rows, cols, workers, vnni, i, out[i], want[i], bound[i], e)
							break
						}
					}
				}
			}
			p.Close()
		}
	}
}

// TestMatMulBatchBitwise: a batch of 8 columns equals 8 single-column calls
// bit for bit, whatever the worker count.
func TestMatMulBatchBitwise(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, vnni := range kernelSets() {
		testMatMulBatchBitwise(t, vnni)
	}
}

func testMatMulBatchBitwise(t *testing.T, vnni bool) {
	p1, p3 := newPool(1, vnni), newPool(3, vnni)
	defer p1.Close()
	defer p3.Close()
	for _, typ := range allTypes {
		for _, cols := range []int{512, 100} { // 100: float kernels' scalar tail
			if _, err := rowBytes(typ, cols); err != nil {
				continue
			}
			t.Run(fmt.Sprintf("%v/%d/vnni=%v", typ, cols, vnni), func(t *testing.T) {
				r := rand.New(rand.NewPCG(7, uint64(typ)))
				const rows, batch = 53, 8
				m := randMatrix(t, r, typ, rows, cols)
				x := randVec(r, batch*cols, 1)
				all := make([]float32, batch*rows)
				p3.MatMul(m, x, batch, all)
				one := make([]float32, rows)
				for b := 0; b < batch; b++ {
					p1.MatMul(m, x[b*cols:(b+1)*cols], 1, one)
					for i := range one {
						if math.Float32bits(one[i]) != math.Float32bits(all[b*rows+i]) {
							t.Fatalf("column %d row %d: batch %v, alone %v", b, i, all[b*rows+i], one[i])
						}
					}
				}
			})
		}
	}
}

// TestMatMulNoAllocs: after the first call has sized the scratch buffers,
// MatMul allocates nothing.
func TestMatMulNoAllocs(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	r := rand.New(rand.NewPCG(1, 2))
	for _, typ := range allTypes {
		m := randMatrix(t, r, typ, 64, 512)
		x := randVec(r, 4*512, 1)
		out := make([]float32, 4*64)
		p.MatMul(m, x, 4, out)
		if n := testing.AllocsPerRun(20, func() { p.MatMul(m, x, 4, out) }); n != 0 {
			t.Errorf("%v: %v allocations per MatMul", typ, n)
		}
	}
}

func TestParallelCoversRange(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, workers := range []int{1, 2, 5} {
		p := NewPool(workers)
		if p.Workers() != workers {
			t.Errorf("Workers() = %d, want %d", p.Workers(), workers)
		}
		for _, n := range []int{0, 1, 2, 7, 64, 1001} {
			hits := make([]int32, n)
			var mu sync.Mutex
			p.Parallel(n, func(lo, hi int) {
				mu.Lock()
				defer mu.Unlock()
				if lo >= hi {
					t.Errorf("empty chunk [%d,%d)", lo, hi)
				}
				for i := lo; i < hi; i++ {
					hits[i]++
				}
			})
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("workers %d n %d: index %d visited %d times", workers, n, i, h)
				}
			}
		}
		p.Close()
		p.Close() // idempotent
	}
}

// TestPoolConcurrentAndNested: concurrent callers share the workers, and a
// Parallel inside a Parallel completes.
func TestPoolConcurrentAndNested(t *testing.T) {
	defer goleak.VerifyNone(t)
	p := NewPool(3)
	defer p.Close()
	r := rand.New(rand.NewPCG(3, 4))
	m := randMatrix(t, r, gguf.TypeQ8_0, 40, 256)
	x := randVec(r, 256, 1)
	want := make([]float32, 40)
	p.MatMul(m, x, 1, want)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]float32, 40)
			for k := 0; k < 50; k++ {
				p.MatMul(m, x, 1, out)
				for i := range out {
					if out[i] != want[i] {
						t.Errorf("concurrent MatMul differs at %d", i)
						return
					}
				}
				var total int64
				var mu sync.Mutex
				p.Parallel(8, func(lo, hi int) {
					p.Parallel(10, func(l2, h2 int) {
						mu.Lock()
						total += int64(h2 - l2)
						mu.Unlock()
					})
				})
				if total != 10*int64(min(8, p.Workers())) {
					// one inner Parallel per outer chunk
					t.Errorf("nested total %d", total)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestFromTensor(t *testing.T) {
	q8 := make([]byte, 2*blockQ8_0Bytes*3) // 3 rows of 64
	cases := []struct {
		name    string
		ti      *gguf.TensorInfo
		ok      bool
		rows    int
		cols    int
		errHint string
	}{
		{"2-D q8_0", &gguf.TensorInfo{Name: "w", Dims: []uint64{64, 3}, Type: gguf.TypeQ8_0, Data: q8}, true, 3, 64, ""},
		{"1-D f32", &gguf.TensorInfo{Name: "norm", Dims: []uint64{4}, Type: gguf.TypeF32, Data: make([]byte, 16)}, true, 1, 4, ""},
		{"short data", &gguf.TensorInfo{Name: "w", Dims: []uint64{64, 3}, Type: gguf.TypeQ8_0, Data: q8[:10]}, false, 0, 0, "w"},
		{"partial block", &gguf.TensorInfo{Name: "w", Dims: []uint64{48, 1}, Type: gguf.TypeQ8_0, Data: q8}, false, 0, 0, "block"},
		{"unsupported", &gguf.TensorInfo{Name: "w5", Dims: []uint64{256}, Type: gguf.TypeQ5_K, Data: make([]byte, 176)}, false, 0, 0, "w5"},
		{"3-D", &gguf.TensorInfo{Name: "w", Dims: []uint64{4, 1, 1}, Type: gguf.TypeF32, Data: make([]byte, 16)}, false, 0, 0, "dimensions"},
		{"huge dims", &gguf.TensorInfo{Name: "w", Dims: []uint64{1 << 40, 1 << 40}, Type: gguf.TypeF32}, false, 0, 0, "range"},
		{"nil", nil, false, 0, 0, "nil"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := FromTensor(c.ti)
			if c.ok {
				if err != nil {
					t.Fatal(err)
				}
				if m.Rows != c.rows || m.Cols != c.cols {
					t.Fatalf("got %dx%d, want %dx%d", m.Rows, m.Cols, c.rows, c.cols)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(c.errHint)) {
				t.Fatalf("error %q does not mention %q", err, c.errHint)
			}
		})
	}
}

func TestRowF32(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, typ := range allTypes {
		m := randMatrix(t, r, typ, 3, 256)
		all := make([]float32, 3*256)
		if err := Dequantize(typ, m.Data, all); err != nil {
			t.Fatal(err)
		}
		row := make([]float32, 256)
		for i := 0; i < 3; i++ {
			m.RowF32(i, row)
			for c := range row {
				if row[c] != all[i*256+c] {
					t.Fatalf("%v row %d col %d: %v want %v", typ, i, c, row[c], all[i*256+c])
				}
			}
		}
	}
}

// TestPoolAfterClose: calls after Close still complete (on the caller) rather
// than hang.
func TestPoolAfterClose(t *testing.T) {
	defer goleak.VerifyNone(t)
	p := NewPool(4)
	p.Close()
	var mu sync.Mutex
	n := 0
	p.Parallel(100, func(lo, hi int) {
		mu.Lock()
		n += hi - lo
		mu.Unlock()
	})
	if n != 100 {
		t.Fatalf("covered %d of 100", n)
	}
}

// TestMatMulsMatchesMatMul: products sharing an input computed in one
// MatMuls call (mixed types, row counts that are not whole tiles) are
// bitwise what separate MatMul calls give, for every kernel set, worker
// count and batch; and the call allocates nothing once warm.
func TestMatMulsMatchesMatMul(t *testing.T) {
	defer goleak.VerifyNone(t)
	const cols = 512
	r := rand.New(rand.NewPCG(41, 42))
	shapes := []struct {
		typ  gguf.TensorType
		rows int
	}{{gguf.TypeQ8_0, 37}, {gguf.TypeQ4_0, 16}, {gguf.TypeQ8_0, 5}, {gguf.TypeQ4_K, 21}, {gguf.TypeF32, 3}, {gguf.TypeQ6_K, 40}, {gguf.TypeF16, 17}}
	ms := make([]*Matrix, len(shapes))
	for i, sh := range shapes {
		ms[i] = randMatrix(t, r, sh.typ, sh.rows, cols)
	}
	for _, vnni := range kernelSets() {
		for _, workers := range []int{1, 3} {
			p := newPool(workers, vnni)
			for _, batch := range []int{1, 5, 40} {
				x := randVec(r, batch*cols, 1)
				outs := make([][]float32, len(ms))
				for i, m := range ms {
					outs[i] = make([]float32, batch*m.Rows)
				}
				p.MatMuls(ms, x, batch, outs)
				for i, m := range ms {
					want := make([]float32, batch*m.Rows)
					p.MatMul(m, x, batch, want)
					if d := firstDiffBits(outs[i], want); d >= 0 {
						t.Fatalf("vnni %v workers %d batch %d matrix %d (%v): out[%d] = %v, MatMul %v", vnni, workers, batch, i, m.Type, d, outs[i][d], want[d])
					}
				}
				if n := testing.AllocsPerRun(10, func() { p.MatMuls(ms, x, batch, outs) }); n != 0 {
					t.Errorf("vnni %v workers %d batch %d: %v allocations per MatMuls", vnni, workers, batch, n)
				}
			}
			p.Close()
		}
	}
}

// TestMatMulsBadArguments: mismatched arguments panic with a message
// naming the problem; an empty call does nothing.
func TestMatMulsBadArguments(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	r := rand.New(rand.NewPCG(43, 44))
	a := randMatrix(t, r, gguf.TypeQ8_0, 4, 64)
	b := randMatrix(t, r, gguf.TypeQ8_0, 4, 96)
	x := randVec(r, 96, 1)
	cases := []struct {
		name string
		f    func()
		want string
	}{
		{"lengths", func() { p.MatMuls([]*Matrix{a, a}, x, 1, [][]float32{make([]float32, 4)}) }, "2 matrices, 1 outputs"},
		{"columns", func() { p.MatMuls([]*Matrix{a, b}, x, 1, [][]float32{make([]float32, 4), make([]float32, 4)}) }, "64 and 96 columns"},
		{"short out", func() { p.MatMuls([]*Matrix{a, a}, x, 1, [][]float32{make([]float32, 4), make([]float32, 3)}) }, "needs out of 4"},
		{"short x", func() { p.MatMuls([]*Matrix{a}, x[:63], 1, [][]float32{make([]float32, 4)}) }, "needs x of 64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				msg := fmt.Sprint(recover())
				if !strings.Contains(msg, c.want) {
					t.Fatalf("panic %q, want it to mention %q", msg, c.want)
				}
			}()
			c.f()
		})
	}
	p.MatMuls(nil, x, 1, nil)
}

// firstDiffBits returns the first index where a and b differ bitwise, or -1.
func firstDiffBits(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}
