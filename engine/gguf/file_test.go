package gguf

import (
	"bytes"
	"math"
	"path/filepath"
	"reflect"
	"testing"
)

func TestAccessorConversions(t *testing.T) {
	b := NewBuilder()
	set := map[string]any{
		"u8": uint8(7), "i8neg": int8(-3), "u32": uint32(4000000000), "i32": int32(-9),
		"u64big": uint64(math.MaxUint64), "i64": int64(1 << 40), "f32": float32(0.5), "f64": 2.25,
		"bool": true, "str": "s",
		"a.i64": []int64{1, -2}, "a.i64big": []int64{1 << 40}, "a.u8": []uint8{250},
		"a.str": []string{"x", "y"}, "a.f32": []float32{1.5}, "a.f64": []float64{1.5},
	}
	for k, v := range set {
		if err := b.SetKV(k, v); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	uints := []struct {
		key  string
		want uint64
		ok   bool
	}{
		{"u8", 7, true}, {"i8neg", 0, false}, {"u32", 4000000000, true}, {"i32", 0, false},
		{"u64big", math.MaxUint64, true}, {"i64", 1 << 40, true}, {"f32", 0, false}, {"str", 0, false}, {"absent", 0, false},
	}
	for _, c := range uints {
		if got, ok := f.Uint(c.key); got != c.want || ok != c.ok {
			t.Errorf("Uint(%q) = %d, %v; want %d, %v", c.key, got, ok, c.want, c.ok)
		}
	}
	ints := []struct {
		key  string
		want int64
		ok   bool
	}{
		{"u8", 7, true}, {"i8neg", -3, true}, {"u32", 4000000000, true}, {"i32", -9, true},
		{"u64big", 0, false}, {"i64", 1 << 40, true}, {"bool", 0, false},
	}
	for _, c := range ints {
		if got, ok := f.Int(c.key); got != c.want || ok != c.ok {
			t.Errorf("Int(%q) = %d, %v; want %d, %v", c.key, got, ok, c.want, c.ok)
		}
	}
	floats := []struct {
		key  string
		want float64
		ok   bool
	}{
		{"f32", 0.5, true}, {"f64", 2.25, true}, {"i32", -9, true}, {"u64big", math.MaxUint64, true}, {"str", 0, false},
	}
	for _, c := range floats {
		if got, ok := f.Float(c.key); got != c.want || ok != c.ok {
			t.Errorf("Float(%q) = %v, %v; want %v, %v", c.key, got, ok, c.want, c.ok)
		}
	}
	if v, ok := f.Bool("bool"); !v || !ok {
		t.Error("Bool(bool)")
	}
	if _, ok := f.Bool("u8"); ok {
		t.Error("Bool accepted UINT8")
	}
	if v, ok := f.Int32s("a.i64"); !ok || !reflect.DeepEqual(v, []int32{1, -2}) {
		t.Errorf("Int32s(a.i64) = %v, %v", v, ok)
	}
	if v, ok := f.Int32s("a.u8"); !ok || !reflect.DeepEqual(v, []int32{250}) {
		t.Errorf("Int32s(a.u8) = %v, %v", v, ok)
	}
	if _, ok := f.Int32s("a.i64big"); ok {
		t.Error("Int32s accepted an out-of-range int64")
	}
	if _, ok := f.Int32s("a.str"); ok {
		t.Error("Int32s accepted strings")
	}
	if v, ok := f.Strings("a.str"); !ok || !reflect.DeepEqual(v, []string{"x", "y"}) {
		t.Errorf("Strings = %v, %v", v, ok)
	}
	if _, ok := f.Float32s("a.f64"); ok {
		t.Error("Float32s accepted FLOAT64")
	}
	if _, ok := f.Strings("str"); ok {
		t.Error("Strings accepted a scalar")
	}
	if f.Arch() != "" {
		t.Errorf("Arch() = %q without general.architecture", f.Arch())
	}
}

// TestOpenBuilderFile writes a model with WriteFile and maps it back.
func TestOpenBuilderFile(t *testing.T) {
	b, datas := buildAllTypes(t, 3, 0)
	if err := b.SetKV("general.architecture", "llama"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := b.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Arch() != "llama" {
		t.Errorf("Arch() = %q", f.Arch())
	}
	for i, tt := range roundTripTensors {
		ti, ok := f.Tensor(tt.name)
		if !ok || !bytes.Equal(ti.Data, datas[i]) || cap(ti.Data) != len(ti.Data) {
			t.Errorf("tensor %q: ok %v len %d cap %d", tt.name, ok, len(ti.Data), cap(ti.Data))
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ti := range f.Tensors {
		if ti.Data != nil {
			t.Fatalf("tensor %q keeps Data after Close", ti.Name)
		}
	}
	// Metadata is copied, so it outlives the mapping.
	if s, _ := f.String("t.str"); s != "héllo\x00world" {
		t.Errorf("string after Close = %q", s)
	}
}

func TestTensorInfoShape(t *testing.T) {
	cases := []struct {
		dims        []uint64
		elems, rows uint64
	}{
		{nil, 1, 1}, {[]uint64{5}, 5, 1}, {[]uint64{4, 3, 2}, 24, 6}, {[]uint64{0, 3}, 0, 0},
	}
	for _, c := range cases {
		ti := TensorInfo{Dims: c.dims}
		if ti.Elements() != c.elems || ti.Rows() != c.rows {
			t.Errorf("%v: elements %d rows %d", c.dims, ti.Elements(), ti.Rows())
		}
	}
}
