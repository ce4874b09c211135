package hf

import (
	"encoding/binary"
	"strings"
	"testing"
)

// st builds a safetensors image from a header and a data section.
func st(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

// TestParseSafetensors checks hand-made images: extents, dtypes and the
// errors that name the tensor at fault.
func TestParseSafetensors(t *testing.T) {
	good := st(`{"__metadata__":{"format":"pt"},"b":{"dtype":"BF16","shape":[2,3],"data_offsets":[4,16]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 16))
	ts, err := parseSafetensors("x", good)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].Name != "a" || ts[1].Name != "b" || len(ts[1].Data) != 12 || ts[1].Shape[1] != 3 || ts[1].DType != "BF16" {
		t.Fatalf("tensors %+v", ts)
	}
	for _, c := range []struct {
		name  string
		image []byte
		want  string
	}{
		{"empty", nil, "too short"},
		{"header past end", st(`{}`, nil)[:9], "header length 2 exceeds"},
		{"not json", st(`{x`, nil), "safetensors header"},
		{"size mismatch", st(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 8)), `tensor "a": data_offsets [0, 4) do not hold F32 [2]`},
		{"past the data", st(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 8)), `tensor "a": data_offsets [4, 12)`},
		{"reversed", st(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, make([]byte, 8)), `tensor "a": data_offsets [4, 0)`},
		{"overflow", st(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}}`, nil), "overflows"},
		{"unknown dtype", st(`{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), `unknown dtype "Q4"`},
		{"bad offsets", st(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}}`, make([]byte, 1)), "data_offsets has 1 values"},
		{"five dims", st(`{"a":{"dtype":"U8","shape":[1,1,1,1,1],"data_offsets":[0,1]}}`, make([]byte, 1)), "5 dims"},
	} {
		_, err := parseSafetensors("x", c.image)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// FuzzParseSafetensors checks that no header makes the parser panic or
// hand out a slice outside the image.
func FuzzParseSafetensors(f *testing.F) {
	f.Add(st(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Add(st(`{"__metadata__":{},"a":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := parseSafetensors("fuzz", b)
		if err != nil {
			return
		}
		for _, x := range ts {
			n := uint64(dtypeSizes[x.DType])
			for _, d := range x.Shape {
				n *= d
			}
			if uint64(len(x.Data)) != n {
				t.Fatalf("tensor %q: %d bytes for %v %v", x.Name, len(x.Data), x.DType, x.Shape)
			}
		}
	})
}
