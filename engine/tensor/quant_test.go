package tensor

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/baco-go/baco/engine/gguf"
)

func readRef(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ggmlref", name))
	if err != nil {
		t.Fatalf("reference vector: %v", err)
	}
	return b
}

func readRefF32(t *testing.T, name string) []float32 {
	t.Helper()
	b := readRef(t, name)
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// firstDiff reports the first differing byte index, or -1.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// TestQuantizeMatchesGGML checks Quantize byte for byte against
// quantize_row_*_ref output dumped by a C harness built on ggml itself.
func TestQuantizeMatchesGGML(t *testing.T) {
	x := readRefF32(t, "input.f32")
	special := readRefF32(t, "special.f32")
	xs := append(append([]float32{}, x...), special...)
	cases := []struct {
		typ   gguf.TensorType
		in    []float32
		file  string
		block int // bytes per block, for the error message
	}{
		{gguf.TypeQ8_0, x, "q8_0.bin", blockQ8_0Bytes},
		{gguf.TypeQ4_0, x, "q4_0.bin", blockQ4_0Bytes},
		{gguf.TypeQ4_K, x, "q4_k.bin", blockQ4KBytes},
		{gguf.TypeQ6_K, x, "q6_k.bin", blockQ6KBytes},
		{gguf.TypeF16, xs, "f16.bin", 2},
		{gguf.TypeBF16, xs, "bf16.bin", 2},
	}
	for _, c := range cases {
		t.Run(c.typ.String(), func(t *testing.T) {
			got, err := Quantize(c.typ, c.in)
			if err != nil {
				t.Fatal(err)
			}
			want := readRef(t, c.file)
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("byte %d (block %d) differs: got %#x want %#x", i, i/c.block, at(got, i), at(want, i))
			}
		})
	}
}

func at(b []byte, i int) int {
	if i < len(b) {
		return int(b[i])
	}
	return -1
}

// TestDequantizeMatchesGGML checks Dequantize bit for bit against
// dequantize_row_* applied by ggml to its own quantised bytes.
func TestDequantizeMatchesGGML(t *testing.T) {
	cases := []struct {
		typ        gguf.TensorType
		file, want string
	}{
		{gguf.TypeQ8_0, "q8_0.bin", "q8_0.deq.f32"},
		{gguf.TypeQ4_0, "q4_0.bin", "q4_0.deq.f32"},
		{gguf.TypeQ4_K, "q4_k.bin", "q4_k.deq.f32"},
		{gguf.TypeQ6_K, "q6_k.bin", "q6_k.deq.f32"},
		{gguf.TypeF16, "f16.bin", "f16.deq.f32"},
	}
	for _, c := range cases {
		t.Run(c.typ.String(), func(t *testing.T) {
			want := readRefF32(t, c.want)
			got := make([]float32, len(want))
			if err := Dequantize(c.typ, readRef(t, c.file), got); err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("element %d: got %v want %v", i, got[i], want[i])
				}
			}
		})
	}
}

// TestBF16Dequantize: bf16 is the top half of float32, so widening the
// reference bytes must give exactly those bits.
func TestBF16Dequantize(t *testing.T) {
	b := readRef(t, "bf16.bin")
	got := make([]float32, len(b)/2)
	if err := Dequantize(gguf.TypeBF16, b, got); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if want := uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16; math.Float32bits(got[i]) != want {
			t.Fatalf("element %d: got %#x want %#x", i, math.Float32bits(got[i]), want)
		}
	}
}

// TestQ8KActivationsMatchGGML checks the Q8_K activation quantiser against
// quantize_row_q8_K_ref (float32 d, 256 int8, 16 int16 sums per block).
func TestQ8KActivationsMatchGGML(t *testing.T) {
	x := readRefF32(t, "input.f32")
	ref := readRef(t, "q8_k.bin")
	nb := len(x) / qkK
	qs := make([]int8, len(x))
	d := make([]float32, nb)
	bs := make([]int16, len(x)/16)
	quantizeActQ8K(x, qs, d, bs)
	const blk = 4 + qkK + 2*qkK/16
	for i := 0; i < nb; i++ {
		r := ref[i*blk : (i+1)*blk]
		if w := math.Float32frombits(binary.LittleEndian.Uint32(r)); math.Float32bits(w) != math.Float32bits(d[i]) {
			t.Fatalf("block %d: d %v want %v", i, d[i], w)
		}
		for j := 0; j < qkK; j++ {
			if int8(r[4+j]) != qs[i*qkK+j] {
				t.Fatalf("block %d quant %d: %d want %d", i, j, qs[i*qkK+j], int8(r[4+j]))
			}
		}
		for j := 0; j < qkK/16; j++ {
			if w := int16(binary.LittleEndian.Uint16(r[4+qkK+2*j:])); w != bs[i*qkK/16+j] {
				t.Fatalf("block %d bsum %d: %d want %d", i, j, bs[i*qkK/16+j], w)
			}
		}
	}
}

// TestQ8_0HandComputed checks one Q8_0 block computed by hand: max|x| = 2.54
// gives d = 0.02 (stored as fp16 0x251F = 0.0200042724609375), and each quant
// is round(x/d) half away from zero with 1/d taken in float32.
func TestQ8_0HandComputed(t *testing.T) {
	x := make([]float32, 32)
	x[0] = 2.54   // +127
	x[1] = -2.54  // -127
	x[2] = 0.01   // 0.5 → 1 (half away from zero; 1/d rounding keeps it ≥ .5)
	x[3] = -0.03  // -1.5 → -2
	x[4] = 1.0    // 50
	x[5] = 0.0099 // 0.495 → 0
	got, err := Quantize(gguf.TypeQ8_0, x)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 34)
	want[0], want[1] = 0x1F, 0x25
	for i, q := range []int8{127, -127, 1, -2, 50, 0} {
		want[2+i] = byte(q)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x\nwant % x", got, want)
	}
}

// TestQ4_0HandComputed: the value of largest magnitude is -4, so d = -4/-8
// = 0.5 (fp16 0x3800) and q = min(15, trunc(x/d + 8.5)); elements 0..15 are
// low nibbles and 16..31 high nibbles of bytes 0..15.
func TestQ4_0HandComputed(t *testing.T) {
	x := make([]float32, 32)
	x[0] = -4   // -8+8.5 = 0.5 → 0
	x[1] = 3.5  // 7+8.5 = 15.5 → 15
	x[16] = 1.2 // 2.4+8.5 = 10.9 → 10
	x[17] = -0.3
	got, err := Quantize(gguf.TypeQ4_0, x)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 18)
	want[0], want[1] = 0x00, 0x38
	for i := 2; i < 18; i++ {
		want[i] = 8 | 8<<4 // zeros: trunc(8.5) = 8
	}
	want[2] = 0 | 10<<4
	want[3] = 15 | 7<<4 // -0.3/0.5 = -0.6 + 8.5 = 7.9 → 7
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x\nwant % x", got, want)
	}
}

// TestQuantizeRoundTripError bounds the dequantised error of every type by
// what its layout allows, on the reference inputs that are weight-like.
func TestQuantizeRoundTripError(t *testing.T) {
	x := readRefF32(t, "input.f32")[:4*qkK] // four gaussian super-blocks
	cases := []struct {
		typ gguf.TensorType
		// rel is the bound on max |x - x̂| relative to max|x| of the
		// block: half a quantisation step for Q8_0 (1/127/2); one step
		// for Q4_0, whose grid -8..7 clips the side opposite the
		// extreme (1/8); K-quants fit scale (and min) by weighted least
		// squares, which may clip extremes, so one step of the range:
		// Q4_K 2·amax/15, Q6_K amax/31.
		rel  float64
		span int
	}{
		{gguf.TypeF32, 0, 1},
		{gguf.TypeF16, 1.0 / 2048, 1},
		{gguf.TypeBF16, 1.0 / 256, 1},
		{gguf.TypeQ8_0, 0.5/127 + 1e-3, 32},
		{gguf.TypeQ4_0, 1.0/8 + 1e-3, 32},
		{gguf.TypeQ4_K, 2.0 / 15, 32},
		{gguf.TypeQ6_K, 1.0 / 31, 16},
	}
	for _, c := range cases {
		t.Run(c.typ.String(), func(t *testing.T) {
			q, err := Quantize(c.typ, x)
			if err != nil {
				t.Fatal(err)
			}
			y := make([]float32, len(x))
			if err := Dequantize(c.typ, q, y); err != nil {
				t.Fatal(err)
			}
			for b := 0; b < len(x); b += c.span {
				var amax float64
				for _, v := range x[b : b+c.span] {
					amax = math.Max(amax, math.Abs(float64(v)))
				}
				for i := b; i < b+c.span; i++ {
					if e := math.Abs(float64(x[i] - y[i])); e > c.rel*amax {
						t.Fatalf("element %d: %v → %v, error %g > %g", i, x[i], y[i], e, c.rel*amax)
					}
				}
			}
		})
	}
}

func TestQuantizeErrors(t *testing.T) {
	cases := []struct {
		name string
		typ  gguf.TensorType
		n    int
	}{
		{"q8_0 partial block", gguf.TypeQ8_0, 33},
		{"q4_k partial block", gguf.TypeQ4_K, 255},
		{"unsupported q5_k", gguf.TypeQ5_K, 256},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Quantize(c.typ, make([]float32, c.n)); err == nil {
				t.Fatal("no error")
			}
		})
	}
	if err := Dequantize(gguf.TypeQ8_0, make([]byte, 33), make([]float32, 32)); err == nil {
		t.Fatal("Dequantize with wrong byte count: no error")
	}
}

// TestLayoutMatchesGGUF keeps this package's block geometry in step with the
// gguf package's type table.
func TestLayoutMatchesGGUF(t *testing.T) {
	for _, typ := range []gguf.TensorType{gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16, gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ4_K, gguf.TypeQ6_K} {
		be, bb, ok := layout(typ)
		if !ok || be != typ.BlockSize() || bb != typ.TypeSize() {
			t.Errorf("%v: layout %d/%d, gguf %d/%d", typ, be, bb, typ.BlockSize(), typ.TypeSize())
		}
	}
}

// TestActQ8_0Rounding checks the activation quantiser's rounding (ties to
// even, like llama.cpp's _mm256_round_ps) on values at and next to the ties,
// and its fp16 scale.
func TestActQ8_0Rounding(t *testing.T) {
	x := make([]float32, 32)
	x[0] = 127 // d = 1, 1/d = 1: quants equal the values rounded
	vals := []float32{0.5, -0.5, 1.5, -2.5, 0.49999997, -0.49999997, 126.5, -126.5, 2.5000002}
	want := []int8{0, 0, 2, -2, 0, 0, 126, -126, 3}
	copy(x[1:], vals)
	qs := make([]int8, 32)
	d := make([]float32, 1)
	quantizeActQ8_0(x, qs, d)
	if d[0] != 1 || qs[0] != 127 {
		t.Fatalf("d = %v, q0 = %d", d[0], qs[0])
	}

	for i, w := range want {
		if qs[1+i] != w {
			t.Errorf("round(%v) = %d, want %d", vals[i], qs[1+i], w)
		}
	}
	// amax 100: d = 100/127 = 0.787401…, whose nearest fp16 is 0.78759765625
	// (binary16 has 10 fraction bits: 0.787401·2048 = 1612.6 → 1613/2048).
	clear(x)
	x[5] = -100
	quantizeActQ8_0(x, qs, d)
	if d[0] != 0.78759765625 || qs[5] != -127 {
		t.Errorf("amax 100: scale %v, quant %d; want the fp16 0.78759765625 and -127", d[0], qs[5])
	}
}
