package gguf

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/baco-go/baco/internal/testdata"
)

// allTypesKVs has one entry per value type, arrays of every element type and
// a nested array.
func allTypesKVs() []KV {
	return []KV{
		{"t.u8", TypeUint8, uint8(200)},
		{"t.i8", TypeInt8, int8(-100)},
		{"t.u16", TypeUint16, uint16(60000)},
		{"t.i16", TypeInt16, int16(-30000)},
		{"t.u32", TypeUint32, uint32(4000000000)},
		{"t.i32", TypeInt32, int32(-2000000000)},
		{"t.f32", TypeFloat32, float32(3.5)},
		{"t.bool", TypeBool, true},
		{"t.str", TypeString, "héllo\x00world"},
		{"t.u64", TypeUint64, uint64(math.MaxUint64)},
		{"t.i64", TypeInt64, int64(math.MinInt64)},
		{"t.f64", TypeFloat64, math.Pi},
		{"a.u8", TypeArray, Array{TypeUint8, []uint8{1, 2, 255}}},
		{"a.i8", TypeArray, Array{TypeInt8, []int8{-1, 0, 127}}},
		{"a.u16", TypeArray, Array{TypeUint16, []uint16{1, 65535}}},
		{"a.i16", TypeArray, Array{TypeInt16, []int16{-32768, 7}}},
		{"a.u32", TypeArray, Array{TypeUint32, []uint32{0, math.MaxUint32}}},
		{"a.i32", TypeArray, Array{TypeInt32, []int32{-5, 5}}},
		{"a.f32", TypeArray, Array{TypeFloat32, []float32{-1.25, 1e-30}}},
		{"a.bool", TypeArray, Array{TypeBool, []bool{true, false, true}}},
		{"a.str", TypeArray, Array{TypeString, []string{"", "a", "▁the", "<0x0A>"}}},
		{"a.u64", TypeArray, Array{TypeUint64, []uint64{1 << 63}}},
		{"a.i64", TypeArray, Array{TypeInt64, []int64{-1 << 40}}},
		{"a.f64", TypeArray, Array{TypeFloat64, []float64{math.Inf(-1), 0.1}}},
		{"a.empty", TypeArray, Array{TypeString, []string{}}},
		{"a.nested", TypeArray, Array{TypeArray, []Array{
			{TypeInt32, []int32{1, 2}},
			{TypeString, []string{"x"}},
			{TypeArray, []Array{{TypeBool, []bool{false}}}},
		}}},
	}
}

type testTensor struct {
	name string
	typ  TensorType
	dims []uint64
}

var roundTripTensors = []testTensor{
	{"f32", TypeF32, []uint64{3, 5}}, // 60 bytes: needs padding
	{"f16", TypeF16, []uint64{7}},
	{"bf16", TypeBF16, []uint64{4, 2, 3}},
	{"q8_0", TypeQ8_0, []uint64{64, 3}},
	{"q4_0", TypeQ4_0, []uint64{32}},
	{"q4_k", TypeQ4_K, []uint64{256, 2}},
	{"q6_k", TypeQ6_K, []uint64{512, 1, 1, 2}},
	{"scalar", TypeF32, nil},
}

// pattern returns n deterministic non-zero-ish bytes.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31) + seed
	}
	return b
}

func buildAllTypes(t testing.TB, version uint32, alignment uint32) (*Builder, [][]byte) {
	t.Helper()
	b := NewBuilder()
	if err := b.SetVersion(version); err != nil {
		t.Fatal(err)
	}
	if alignment != 0 {
		if err := b.SetKV(KeyAlignment, alignment); err != nil {
			t.Fatal(err)
		}
	}
	for _, kv := range allTypesKVs() {
		if err := b.SetKV(kv.Key, kv.Value); err != nil {
			t.Fatalf("SetKV(%q): %v", kv.Key, err)
		}
	}
	var datas [][]byte
	for i, tt := range roundTripTensors {
		size, err := tensorSize(tt.typ, tt.dims)
		if err != nil {
			t.Fatal(err)
		}
		d := pattern(int(size), byte(i))
		datas = append(datas, d)
		if err := b.AddTensor(tt.name, tt.typ, tt.dims, d); err != nil {
			t.Fatalf("AddTensor(%q): %v", tt.name, err)
		}
	}
	return b, datas
}

func TestRoundTripAllTypes(t *testing.T) {
	cases := []struct {
		version, alignment uint32
	}{{3, 0}, {2, 0}, {3, 64}, {3, 1}}
	for _, c := range cases {
		b, datas := buildAllTypes(t, c.version, c.alignment)
		var buf bytes.Buffer
		n, err := b.WriteTo(&buf)
		if err != nil || n != int64(buf.Len()) {
			t.Fatalf("WriteTo: %d, %v (buffer %d)", n, err, buf.Len())
		}
		f, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatalf("v%d align %d: Parse: %v", c.version, c.alignment, err)
		}
		wantAlign := uint64(c.alignment)
		want := allTypesKVs()
		if c.alignment == 0 {
			wantAlign = 32
		} else {
			want = append([]KV{{KeyAlignment, TypeUint32, c.alignment}}, want...)
		}
		if f.Version != c.version || f.Alignment != wantAlign {
			t.Errorf("version %d alignment %d", f.Version, f.Alignment)
		}
		if !reflect.DeepEqual(f.KVs, want) {
			t.Errorf("KVs differ:\n got %#v\nwant %#v", f.KVs, want)
		}
		if len(f.Tensors) != len(roundTripTensors) {
			t.Fatalf("%d tensors", len(f.Tensors))
		}
		for i, tt := range roundTripTensors {
			got := f.Tensors[i]
			if got.Name != tt.name || got.Type != tt.typ || !equalU64(got.Dims, tt.dims) || !bytes.Equal(got.Data, datas[i]) {
				t.Errorf("tensor %d: %s %v %v, data equal %v", i, got.Name, got.Type, got.Dims, bytes.Equal(got.Data, datas[i]))
			}
			if got.Offset%wantAlign != 0 || (f.DataOffset)%wantAlign != 0 {
				t.Errorf("tensor %s offset %d / data %d not aligned to %d", got.Name, got.Offset, f.DataOffset, wantAlign)
			}
		}
		if uint64(buf.Len())%wantAlign != 0 {
			t.Errorf("file length %d not padded to %d", buf.Len(), wantAlign)
		}
	}
}

// TestWriterLayout checks the exact bytes of a tiny file against a
// hand-assembled image of the GGUF v3 layout.
func TestWriterLayout(t *testing.T) {
	b := NewBuilder()
	if err := b.SetKV("k", 7); err != nil { // int -> INT32
		t.Fatal(err)
	}
	if err := b.AddTensor("w", TypeF32, []uint64{2}, []byte{1, 2, 3, 4, 5, 6, 7, 8}); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := b.WriteTo(&got); err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	var w []byte
	w = append(w, "GGUF"...)
	w = le.AppendUint32(w, 3)
	w = le.AppendUint64(w, 1) // tensors
	w = le.AppendUint64(w, 1) // kvs
	w = le.AppendUint64(w, 1)
	w = append(w, 'k')
	w = le.AppendUint32(w, 5) // INT32
	w = le.AppendUint32(w, 7)
	w = le.AppendUint64(w, 1)
	w = append(w, 'w')
	w = le.AppendUint32(w, 1) // n_dims
	w = le.AppendUint64(w, 2)
	w = le.AppendUint32(w, 0) // F32
	w = le.AppendUint64(w, 0) // offset
	// 24 + 17 + 29 = 70 bytes of metadata, padded to 96.
	w = append(w, make([]byte, 96-len(w))...)
	w = append(w, 1, 2, 3, 4, 5, 6, 7, 8)
	w = append(w, make([]byte, 24)...)
	if !bytes.Equal(got.Bytes(), w) {
		t.Errorf("layout differs:\n got %x\nwant %x", got.Bytes(), w)
	}
}

// TestRewriteStories260K copies every KV and tensor of stories260K into a
// Builder; the written file must equal the original byte for byte.
func TestRewriteStories260K(t *testing.T) {
	path := testdata.Path(t, "models/stories260K.gguf")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(orig)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBuilderFrom(f)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "copy.gguf")
	if err := b.WriteFile(out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, orig) {
		t.Errorf("rewritten file differs: %d bytes vs %d, first difference at %d", len(got), len(orig), firstDiff(got, orig))
	}
}

// TestRewriteVocabFiles: the vocab GGUFs were written without padding after
// the tensor infos (they have no tensors); Builder always pads, so the copy
// is the original followed by zeros up to the alignment.
func TestRewriteVocabFiles(t *testing.T) {
	for _, name := range []string{"ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf", "ggml-vocab-bert-bge.gguf"} {
		orig, err := os.ReadFile(testdata.Path(t, filepath.Join("tokenizer", name)))
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(orig)
		if err != nil {
			t.Fatal(err)
		}
		b, err := NewBuilderFrom(f)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := b.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		got := buf.Bytes()
		wantLen := (len(orig) + 31) / 32 * 32
		if len(got) != wantLen || !bytes.Equal(got[:len(orig)], orig) || !bytes.Equal(got[len(orig):], make([]byte, wantLen-len(orig))) {
			t.Errorf("%s: copy is %d bytes (want %d), first difference at %d", name, len(got), wantLen, firstDiff(got, orig))
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestSetKVConversions(t *testing.T) {
	cases := []struct {
		in    any
		typ   ValueType
		value any
	}{
		{7, TypeInt32, int32(7)},
		{-1 << 40, TypeInt64, int64(-1 << 40)},
		{uint(9), TypeUint32, uint32(9)},
		{uint(1 << 40), TypeUint64, uint64(1 << 40)},
		{[]int{1, -2}, TypeArray, Array{TypeInt32, []int32{1, -2}}},
		{[]int{1, 1 << 33}, TypeArray, Array{TypeInt64, []int64{1, 1 << 33}}},
		{[]string{"a"}, TypeArray, Array{TypeString, []string{"a"}}},
		{[]float32{1}, TypeArray, Array{TypeFloat32, []float32{1}}},
	}
	for _, c := range cases {
		b := NewBuilder()
		if err := b.SetKV("k", c.in); err != nil {
			t.Errorf("SetKV(%#v): %v", c.in, err)
			continue
		}
		if kv := b.kvs[0]; kv.Type != c.typ || !reflect.DeepEqual(kv.Value, c.value) {
			t.Errorf("SetKV(%#v) stored %v %#v, want %v %#v", c.in, kv.Type, kv.Value, c.typ, c.value)
		}
	}
}

func TestSetKVReplaceKeepsOrder(t *testing.T) {
	b := NewBuilder()
	for _, k := range []string{"a", "b", "c"} {
		if err := b.SetKV(k, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.SetKV("b", uint8(1)); err != nil {
		t.Fatal(err)
	}
	b.DeleteKV("a")
	if err := b.SetKV("d", true); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := []KV{{"b", TypeUint8, uint8(1)}, {"c", TypeString, "c"}, {"d", TypeBool, true}}
	if !reflect.DeepEqual(f.KVs, want) {
		t.Errorf("KVs %v, want %v", f.KVs, want)
	}
}

func TestBuilderErrors(t *testing.T) {
	kvCases := []struct {
		key   string
		value any
	}{
		{"", 1},
		{"k", struct{}{}},
		{"k", []any{1}},
		{"k", Array{TypeInt32, []string{"x"}}},
		{"k", Array{TypeArray, []int32{1}}},
		{"k", Array{ValueType(99), []int32{1}}},
		{KeyAlignment, uint32(0)},
		{KeyAlignment, uint32(48)},
		{KeyAlignment, "32"},
		{KeyAlignment, int64(1 << 40)},
	}
	for _, c := range kvCases {
		if err := NewBuilder().SetKV(c.key, c.value); err == nil {
			t.Errorf("SetKV(%q, %#v) accepted", c.key, c.value)
		}
	}
	tensorCases := []struct {
		name string
		typ  TensorType
		dims []uint64
		n    int
	}{
		{"", TypeF32, []uint64{1}, 4},
		{"short", TypeF32, []uint64{4}, 15},
		{"long", TypeF32, []uint64{4}, 17},
		{"block", TypeQ8_0, []uint64{16}, 17},
		{"removed", TensorType(31), []uint64{32}, 18},
		{"unknown", TensorType(1000), []uint64{1}, 1},
		{"dims", TypeF32, []uint64{1, 1, 1, 1, 1}, 4},
		{"overflow", TypeF32, []uint64{1 << 62, 4}, 0},
	}
	for _, c := range tensorCases {
		if err := NewBuilder().AddTensor(c.name, c.typ, c.dims, make([]byte, c.n)); err == nil {
			t.Errorf("AddTensor(%q) accepted", c.name)
		}
	}
	b := NewBuilder()
	if err := b.AddTensor("x", TypeF32, []uint64{1}, make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	if err := b.AddTensor("x", TypeF32, []uint64{1}, make([]byte, 4)); err == nil {
		t.Error("duplicate tensor accepted")
	}
	if err := b.SetVersion(1); err == nil {
		t.Error("SetVersion(1) accepted")
	}
}
