package gguf

import (
	"errors"
	"testing"
)

// Block layouts as literal numbers from ggml-common.h's static_asserts
// (sizeof(block_q4_K) == 144 and so on), not recomputed from formulas.
func TestTensorTypeLayouts(t *testing.T) {
	cases := []struct {
		typ        TensorType
		name       string
		block, siz int
	}{
		{TypeF32, "F32", 1, 4}, {TypeF16, "F16", 1, 2},
		{TypeQ4_0, "Q4_0", 32, 18}, {TypeQ4_1, "Q4_1", 32, 20},
		{TypeQ5_0, "Q5_0", 32, 22}, {TypeQ5_1, "Q5_1", 32, 24},
		{TypeQ8_0, "Q8_0", 32, 34}, {TypeQ8_1, "Q8_1", 32, 36},
		{TypeQ2_K, "Q2_K", 256, 84}, {TypeQ3_K, "Q3_K", 256, 110},
		{TypeQ4_K, "Q4_K", 256, 144}, {TypeQ5_K, "Q5_K", 256, 176},
		{TypeQ6_K, "Q6_K", 256, 210}, {TypeQ8_K, "Q8_K", 256, 292},
		{TypeIQ2_XXS, "IQ2_XXS", 256, 66}, {TypeIQ2_XS, "IQ2_XS", 256, 74},
		{TypeIQ3_XXS, "IQ3_XXS", 256, 98}, {TypeIQ1_S, "IQ1_S", 256, 50},
		{TypeIQ4_NL, "IQ4_NL", 32, 18}, {TypeIQ3_S, "IQ3_S", 256, 110},
		{TypeIQ2_S, "IQ2_S", 256, 82}, {TypeIQ4_XS, "IQ4_XS", 256, 136},
		{TypeI8, "I8", 1, 1}, {TypeI16, "I16", 1, 2}, {TypeI32, "I32", 1, 4},
		{TypeI64, "I64", 1, 8}, {TypeF64, "F64", 1, 8},
		{TypeIQ1_M, "IQ1_M", 256, 56}, {TypeBF16, "BF16", 1, 2},
		{TypeTQ1_0, "TQ1_0", 256, 54}, {TypeTQ2_0, "TQ2_0", 256, 66},
		{TypeMXFP4, "MXFP4", 32, 17}, {TypeNVFP4, "NVFP4", 64, 36},
		{TypeQ1_0, "Q1_0", 128, 18}, {TypeQ2_0, "Q2_0", 64, 18},
	}
	for _, c := range cases {
		if c.typ.String() != c.name || c.typ.BlockSize() != c.block || c.typ.TypeSize() != c.siz {
			t.Errorf("%d: %q block %d size %d; want %q %d %d", uint32(c.typ), c.typ.String(), c.typ.BlockSize(), c.typ.TypeSize(), c.name, c.block, c.siz)
		}
		got, err := ParseTensorType(c.name)
		if err != nil || got != c.typ {
			t.Errorf("ParseTensorType(%q) = %v, %v", c.name, got, err)
		}
	}
	for _, n := range []uint32{4, 5, 31, 32, 33, 36, 37, 38} {
		tt := TensorType(n)
		if tt.Known() || tt.String() == "" {
			t.Errorf("removed type %d: known %v name %q", n, tt.Known(), tt.String())
		}
		if _, err := ParseTensorType(tt.String()); err == nil {
			t.Errorf("ParseTensorType accepted removed %q", tt)
		}
		if _, err := tt.RowSize(32); !errors.Is(err, ErrUnsupported) {
			t.Errorf("RowSize of removed type %d: %v", n, err)
		}
	}
	if s := TensorType(1000).String(); s != "TensorType(1000)" {
		t.Errorf("unknown type name %q", s)
	}
}

func TestParseTensorTypeCase(t *testing.T) {
	for in, want := range map[string]TensorType{"q8_0": TypeQ8_0, "Q4_k": TypeQ4_K, "bf16": TypeBF16, "f32": TypeF32} {
		if got, err := ParseTensorType(in); err != nil || got != want {
			t.Errorf("ParseTensorType(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "q9_0", "Q4_0_4_4", "f32 "} {
		if _, err := ParseTensorType(bad); err == nil {
			t.Errorf("ParseTensorType(%q) accepted", bad)
		}
	}
}

func TestRowSize(t *testing.T) {
	cases := []struct {
		typ  TensorType
		n    int
		want int
		ok   bool
	}{
		{TypeF32, 64, 256, true},
		{TypeF16, 3, 6, true},
		{TypeQ8_0, 64, 68, true},
		{TypeQ8_0, 48, 0, false},
		{TypeQ4_K, 4096, 16 * 144, true},
		{TypeQ6_K, 256, 210, true},
		{TypeQ6_K, 100, 0, false},
		{TypeF32, -4, 0, false},
		{TypeF32, 0, 0, true},
		{TypeF64, maxInt/4 + 1, 0, false},
	}
	for _, c := range cases {
		got, err := c.typ.RowSize(c.n)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("%v.RowSize(%d) = %d, %v; want %d ok=%v", c.typ, c.n, got, err, c.want, c.ok)
		}
	}
}

func TestValueTypeString(t *testing.T) {
	for vt, want := range map[ValueType]string{TypeUint8: "UINT8", TypeString: "STRING", TypeArray: "ARRAY", TypeFloat64: "FLOAT64", 13: "ValueType(13)"} {
		if vt.String() != want {
			t.Errorf("%d: %q, want %q", uint32(vt), vt.String(), want)
		}
	}
}
