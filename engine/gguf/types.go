package gguf

import (
	"fmt"
	"strings"
)

// ValueType is a GGUF metadata value type, numbered as in the GGUF
// specification (UINT8=0 ... FLOAT64=12).
type ValueType uint32

// GGUF metadata value types.
const (
	TypeUint8   ValueType = 0  // TypeUint8 is an unsigned 8-bit integer.
	TypeInt8    ValueType = 1  // TypeInt8 is a signed 8-bit integer.
	TypeUint16  ValueType = 2  // TypeUint16 is an unsigned 16-bit integer.
	TypeInt16   ValueType = 3  // TypeInt16 is a signed 16-bit integer.
	TypeUint32  ValueType = 4  // TypeUint32 is an unsigned 32-bit integer.
	TypeInt32   ValueType = 5  // TypeInt32 is a signed 32-bit integer.
	TypeFloat32 ValueType = 6  // TypeFloat32 is an IEEE-754 binary32 float.
	TypeBool    ValueType = 7  // TypeBool is a one-byte boolean (0 or 1).
	TypeString  ValueType = 8  // TypeString is a uint64 length followed by bytes.
	TypeArray   ValueType = 9  // TypeArray is an element type, a uint64 count and the elements.
	TypeUint64  ValueType = 10 // TypeUint64 is an unsigned 64-bit integer.
	TypeInt64   ValueType = 11 // TypeInt64 is a signed 64-bit integer.
	TypeFloat64 ValueType = 12 // TypeFloat64 is an IEEE-754 binary64 float.
)

var valueTypeNames = [...]string{
	TypeUint8: "UINT8", TypeInt8: "INT8", TypeUint16: "UINT16", TypeInt16: "INT16",
	TypeUint32: "UINT32", TypeInt32: "INT32", TypeFloat32: "FLOAT32", TypeBool: "BOOL",
	TypeString: "STRING", TypeArray: "ARRAY", TypeUint64: "UINT64", TypeInt64: "INT64",
	TypeFloat64: "FLOAT64",
}

// String returns the specification name of the value type, e.g. "UINT32",
// or "ValueType(n)" for an unknown type.
func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("ValueType(%d)", uint32(t))
}

// Valid reports whether t is a value type defined by the specification.
func (t ValueType) Valid() bool { return t <= TypeFloat64 }

// fixedSize is the encoded size of a scalar of type t, or 0 for strings and
// arrays (variable size) and unknown types.
func (t ValueType) fixedSize() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// minSize is the smallest number of bytes one encoded value of type t can
// occupy; it bounds counts read from a file before anything is allocated.
func (t ValueType) minSize() int {
	switch t {
	case TypeString:
		return 8 // length
	case TypeArray:
		return 12 // element type + count
	}
	return t.fixedSize()
}

// TensorType is a ggml tensor element type, numbered as in ggml.h.
type TensorType uint32

// ggml tensor types. Numbers 4, 5, 31-33 and 36-38 were used by types that
// ggml has since removed; they have names but no layout, so files using them
// are refused.
const (
	TypeF32     TensorType = 0  // TypeF32 is IEEE binary32.
	TypeF16     TensorType = 1  // TypeF16 is IEEE binary16.
	TypeQ4_0    TensorType = 2  // TypeQ4_0 is 4-bit blocks of 32 with an F16 scale.
	TypeQ4_1    TensorType = 3  // TypeQ4_1 is 4-bit blocks of 32 with F16 scale and min.
	TypeQ5_0    TensorType = 6  // TypeQ5_0 is 5-bit blocks of 32 with an F16 scale.
	TypeQ5_1    TensorType = 7  // TypeQ5_1 is 5-bit blocks of 32 with F16 scale and min.
	TypeQ8_0    TensorType = 8  // TypeQ8_0 is 8-bit blocks of 32 with an F16 scale.
	TypeQ8_1    TensorType = 9  // TypeQ8_1 is 8-bit blocks of 32 with F16 scale and sum.
	TypeQ2_K    TensorType = 10 // TypeQ2_K is the 2-bit k-quant (super-blocks of 256).
	TypeQ3_K    TensorType = 11 // TypeQ3_K is the 3-bit k-quant (super-blocks of 256).
	TypeQ4_K    TensorType = 12 // TypeQ4_K is the 4-bit k-quant (super-blocks of 256).
	TypeQ5_K    TensorType = 13 // TypeQ5_K is the 5-bit k-quant (super-blocks of 256).
	TypeQ6_K    TensorType = 14 // TypeQ6_K is the 6-bit k-quant (super-blocks of 256).
	TypeQ8_K    TensorType = 15 // TypeQ8_K is the 8-bit k-quant (super-blocks of 256).
	TypeIQ2_XXS TensorType = 16 // TypeIQ2_XXS is an i-quant.
	TypeIQ2_XS  TensorType = 17 // TypeIQ2_XS is an i-quant.
	TypeIQ3_XXS TensorType = 18 // TypeIQ3_XXS is an i-quant.
	TypeIQ1_S   TensorType = 19 // TypeIQ1_S is an i-quant.
	TypeIQ4_NL  TensorType = 20 // TypeIQ4_NL is an i-quant (blocks of 32).
	TypeIQ3_S   TensorType = 21 // TypeIQ3_S is an i-quant.
	TypeIQ2_S   TensorType = 22 // TypeIQ2_S is an i-quant.
	TypeIQ4_XS  TensorType = 23 // TypeIQ4_XS is an i-quant.
	TypeI8      TensorType = 24 // TypeI8 is int8.
	TypeI16     TensorType = 25 // TypeI16 is int16.
	TypeI32     TensorType = 26 // TypeI32 is int32.
	TypeI64     TensorType = 27 // TypeI64 is int64.
	TypeF64     TensorType = 28 // TypeF64 is IEEE binary64.
	TypeIQ1_M   TensorType = 29 // TypeIQ1_M is an i-quant.
	TypeBF16    TensorType = 30 // TypeBF16 is bfloat16.
	TypeTQ1_0   TensorType = 34 // TypeTQ1_0 is a ternary quant.
	TypeTQ2_0   TensorType = 35 // TypeTQ2_0 is a ternary quant.
	TypeMXFP4   TensorType = 39 // TypeMXFP4 is OCP MXFP4 (blocks of 32, E8M0 scale).
	TypeNVFP4   TensorType = 40 // TypeNVFP4 is NVFP4 (blocks of 64, E4M3 scales).
	TypeQ1_0    TensorType = 41 // TypeQ1_0 is a 1-bit quant (blocks of 128).
	TypeQ2_0    TensorType = 42 // TypeQ2_0 is a 2-bit quant (blocks of 64).
)

// typeTrait is the layout of one tensor type: elements per block and bytes
// per block. A zero block size marks a removed type.
type typeTrait struct {
	name      string
	blockSize int
	typeSize  int
}

const qkK = 256

// typeTraits follows ggml's type_traits table (ggml.c); the block sizes are
// the static_asserts of ggml-common.h.
var typeTraits = [...]typeTrait{
	TypeF32:     {"F32", 1, 4},
	TypeF16:     {"F16", 1, 2},
	TypeQ4_0:    {"Q4_0", 32, 2 + 16},
	TypeQ4_1:    {"Q4_1", 32, 2 + 2 + 16},
	4:           {"Q4_2", 0, 0}, // removed
	5:           {"Q4_3", 0, 0}, // removed
	TypeQ5_0:    {"Q5_0", 32, 2 + 4 + 16},
	TypeQ5_1:    {"Q5_1", 32, 2 + 2 + 4 + 16},
	TypeQ8_0:    {"Q8_0", 32, 2 + 32},
	TypeQ8_1:    {"Q8_1", 32, 2 + 2 + 32},
	TypeQ2_K:    {"Q2_K", qkK, 2 + 2 + qkK/16 + qkK/4},
	TypeQ3_K:    {"Q3_K", qkK, 2 + qkK/4 + qkK/8 + 12},
	TypeQ4_K:    {"Q4_K", qkK, 2 + 2 + qkK/2 + 12},
	TypeQ5_K:    {"Q5_K", qkK, 2 + 2 + qkK/2 + qkK/8 + 12},
	TypeQ6_K:    {"Q6_K", qkK, 2 + qkK/2 + qkK/4 + qkK/16},
	TypeQ8_K:    {"Q8_K", qkK, 4 + qkK + qkK/16*2},
	TypeIQ2_XXS: {"IQ2_XXS", qkK, 2 + qkK/4},
	TypeIQ2_XS:  {"IQ2_XS", qkK, 2 + qkK/4 + qkK/32},
	TypeIQ3_XXS: {"IQ3_XXS", qkK, 2 + qkK/4 + qkK/8},
	TypeIQ1_S:   {"IQ1_S", qkK, 2 + qkK/8 + qkK/16},
	TypeIQ4_NL:  {"IQ4_NL", 32, 2 + 16},
	TypeIQ3_S:   {"IQ3_S", qkK, 2 + qkK/4 + qkK/8 + qkK/32 + 4},
	TypeIQ2_S:   {"IQ2_S", qkK, 2 + qkK/4 + qkK/16},
	TypeIQ4_XS:  {"IQ4_XS", qkK, 2 + 2 + qkK/2 + qkK/64},
	TypeI8:      {"I8", 1, 1},
	TypeI16:     {"I16", 1, 2},
	TypeI32:     {"I32", 1, 4},
	TypeI64:     {"I64", 1, 8},
	TypeF64:     {"F64", 1, 8},
	TypeIQ1_M:   {"IQ1_M", qkK, qkK/8 + qkK/16 + qkK/32},
	TypeBF16:    {"BF16", 1, 2},
	31:          {"Q4_0_4_4", 0, 0}, // removed
	32:          {"Q4_0_4_8", 0, 0}, // removed
	33:          {"Q4_0_8_8", 0, 0}, // removed
	TypeTQ1_0:   {"TQ1_0", qkK, 2 + 4*13},
	TypeTQ2_0:   {"TQ2_0", qkK, 2 + 64},
	36:          {"IQ4_NL_4_4", 0, 0}, // removed
	37:          {"IQ4_NL_4_8", 0, 0}, // removed
	38:          {"IQ4_NL_8_8", 0, 0}, // removed
	TypeMXFP4:   {"MXFP4", 32, 1 + 16},
	TypeNVFP4:   {"NVFP4", 64, 4 + 32},
	TypeQ1_0:    {"Q1_0", 128, 2 + 16},
	TypeQ2_0:    {"Q2_0", 64, 2 + 16},
}

// String returns ggml's name for the type ("F32", "Q8_0", "Q4_K", ...), or
// "TensorType(n)" for a number ggml never assigned.
func (t TensorType) String() string {
	if int(t) < len(typeTraits) {
		return typeTraits[t].name
	}
	return fmt.Sprintf("TensorType(%d)", uint32(t))
}

// Known reports whether the type has a known block layout (it is defined and
// has not been removed from ggml).
func (t TensorType) Known() bool { return t.BlockSize() > 0 }

// BlockSize returns the number of elements per block: 1 for F32, F16 and
// BF16, 32 for Q8_0 and Q4_0, 256 for the k-quants. It is 0 for unknown or
// removed types.
func (t TensorType) BlockSize() int {
	if int(t) < len(typeTraits) {
		return typeTraits[t].blockSize
	}
	return 0
}

// TypeSize returns the number of bytes per block (F32 4, F16 2, Q8_0 34,
// Q4_0 18, Q4_K 144, Q6_K 210, ...). It is 0 for unknown or removed types.
func (t TensorType) TypeSize() int {
	if int(t) < len(typeTraits) {
		return typeTraits[t].typeSize
	}
	return 0
}

// RowSize returns the number of bytes n elements of this type occupy. It
// fails when the type has no known layout, when n is negative or not a
// multiple of the block size, or when the size overflows int.
func (t TensorType) RowSize(n int) (int, error) {
	bs, ts := t.BlockSize(), t.TypeSize()
	if bs == 0 {
		return 0, fmt.Errorf("gguf: tensor type %v has no known layout: %w", t, ErrUnsupported)
	}
	if n < 0 {
		return 0, fmt.Errorf("gguf: negative element count %d", n)
	}
	if n%bs != 0 {
		return 0, fmt.Errorf("gguf: %d elements is not a multiple of the %v block size %d", n, t, bs)
	}
	blocks := n / bs
	if blocks > maxInt/ts {
		return 0, fmt.Errorf("gguf: %d elements of %v overflow the row size", n, t)
	}
	return blocks * ts, nil
}

const maxInt = int(^uint(0) >> 1)

// ParseTensorType returns the type named s, case-insensitively ("q8_0" gives
// TypeQ8_0). Removed types are refused.
func ParseTensorType(s string) (TensorType, error) {
	for i, tr := range typeTraits {
		if tr.blockSize > 0 && strings.EqualFold(tr.name, s) {
			return TensorType(i), nil
		}
	}
	return 0, fmt.Errorf("gguf: unknown tensor type %q", s)
}
