// Package gguf reads and writes GGUF model files (versions 2 and 3, little
// endian), the format of llama.cpp and ggml.
//
// Open maps a file read-only and returns its metadata and tensor directory;
// each tensor's Data is a zero-copy slice of the mapping, valid until Close.
// Parse does the same for an image already in memory. Builder writes files
// in llama.cpp's layout.
//
// The parser treats its input as hostile: every count and length is checked
// against the bytes that remain before anything is allocated, and every
// problem is reported as a *FormatError naming the field, which unwraps to
// ErrMalformed or ErrUnsupported.
package gguf

import (
	"fmt"
	"math"
	"os"
)

// Array is a metadata array value. Values holds a slice matching Type:
// []uint8, []int8, []uint16, []int16, []uint32, []int32, []float32, []bool,
// []string, []uint64, []int64, []float64, or []Array for nested arrays.
type Array struct {
	// Type is the element type.
	Type ValueType
	// Values is the typed slice of elements.
	Values any
}

// Len returns the number of elements, or 0 when Values is not a slice of a
// supported type.
func (a Array) Len() int {
	switch v := a.Values.(type) {
	case []uint8:
		return len(v)
	case []int8:
		return len(v)
	case []uint16:
		return len(v)
	case []int16:
		return len(v)
	case []uint32:
		return len(v)
	case []int32:
		return len(v)
	case []float32:
		return len(v)
	case []bool:
		return len(v)
	case []string:
		return len(v)
	case []uint64:
		return len(v)
	case []int64:
		return len(v)
	case []float64:
		return len(v)
	case []Array:
		return len(v)
	}
	return 0
}

// KV is one metadata entry. Value holds the Go type matching Type: uint8,
// int8, uint16, int16, uint32, int32, float32, bool, string, Array, uint64,
// int64 or float64.
type KV struct {
	// Key is the metadata key, e.g. "general.architecture".
	Key string
	// Type is the encoded value type.
	Type ValueType
	// Value is the decoded value.
	Value any
}

// TensorInfo describes one tensor. Dims are in ggml order: Dims[0] is the
// innermost dimension (row length, ne[0]).
type TensorInfo struct {
	// Name is the tensor name, e.g. "token_embd.weight".
	Name string
	// Dims are the dimensions, innermost first.
	Dims []uint64
	// Type is the element type.
	Type TensorType
	// Offset is the byte offset of the data relative to the data section.
	Offset uint64
	// Size is the number of data bytes.
	Size uint64
	// Data is the tensor's bytes: a slice of the mapped file (Open) or of
	// the parsed image (Parse). It must not be modified, nor used after
	// Close.
	Data []byte
}

// Elements returns the number of elements (the product of Dims; 1 for a
// tensor without dims).
func (t *TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Rows returns the number of rows: Elements / Dims[0] (1 for fewer than two
// dims, 0 for an empty tensor).
func (t *TensorInfo) Rows() uint64 {
	if len(t.Dims) == 0 {
		return 1
	}
	if t.Dims[0] == 0 {
		return 0
	}
	return t.Elements() / t.Dims[0]
}

// File is a parsed GGUF file.
type File struct {
	// Version is the GGUF version, 2 or 3.
	Version uint32
	// KVs are the metadata entries in file order.
	KVs []KV
	// Tensors are the tensor infos in file order.
	Tensors []TensorInfo
	// Alignment is the data alignment (general.alignment, default 32).
	Alignment uint64
	// DataOffset is the absolute file offset of the data section.
	DataOffset uint64

	kvIndex     map[string]int
	tensorIndex map[string]int
	mapping     []byte // non-nil while a file opened with Open is mapped
}

// Open maps the file at path read-only and parses it. Tensor data is not
// copied: each TensorInfo.Data points into the mapping, which lives until
// Close.
func Open(path string) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	size := st.Size()
	if size == 0 {
		return nil, fmt.Errorf("gguf: %s: empty file: %w", path, ErrMalformed)
	}
	if size < 0 || uint64(size) > math.MaxInt {
		return nil, fmt.Errorf("gguf: %s: size %d cannot be mapped", path, size)
	}
	data, err := mapFile(fd, int(size))
	if err != nil {
		return nil, fmt.Errorf("gguf: map %s: %w", path, err)
	}
	f, err := parse(data)
	if err != nil {
		_ = unmapFile(data)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.mapping = data
	return f, nil
}

// Close releases the mapping made by Open. Tensor Data slices must not be
// used afterwards. Close is safe to call twice, and is a no-op for a File
// from Parse.
func (f *File) Close() error {
	if f == nil || f.mapping == nil {
		return nil
	}
	m := f.mapping
	f.mapping = nil
	for i := range f.Tensors {
		f.Tensors[i].Data = nil
	}
	if err := unmapFile(m); err != nil {
		return fmt.Errorf("gguf: unmap: %w", err)
	}
	return nil
}

// KV returns the metadata entry for key.
func (f *File) KV(key string) (KV, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return KV{}, false
	}
	return f.KVs[i], true
}

// String returns the string value of key; false if absent or not a string.
func (f *File) String(key string) (string, bool) {
	kv, ok := f.KV(key)
	if !ok {
		return "", false
	}
	s, ok := kv.Value.(string)
	return s, ok
}

// Uint returns the value of key converted to uint64. It accepts any integer
// type holding a non-negative value.
func (f *File) Uint(key string) (uint64, bool) {
	kv, ok := f.KV(key)
	if !ok {
		return 0, false
	}
	return toUint(kv.Value)
}

// Int returns the value of key converted to int64. It accepts any integer
// type whose value fits.
func (f *File) Int(key string) (int64, bool) {
	kv, ok := f.KV(key)
	if !ok {
		return 0, false
	}
	return toInt(kv.Value)
}

// Float returns the value of key as float64: FLOAT32, FLOAT64, or any
// integer type converted.
func (f *File) Float(key string) (float64, bool) {
	kv, ok := f.KV(key)
	if !ok {
		return 0, false
	}
	switch v := kv.Value.(type) {
	case float32:
		return float64(v), true
	case float64:
		return v, true
	case uint64:
		return float64(v), true
	}
	if i, ok := toInt(kv.Value); ok {
		return float64(i), true
	}
	return 0, false
}

// Bool returns the boolean value of key; false if absent or not a bool.
func (f *File) Bool(key string) (bool, bool) {
	kv, ok := f.KV(key)
	if !ok {
		return false, false
	}
	b, ok := kv.Value.(bool)
	return b, ok
}

// array returns the array value of key.
func (f *File) array(key string) (Array, bool) {
	kv, ok := f.KV(key)
	if !ok {
		return Array{}, false
	}
	a, ok := kv.Value.(Array)
	return a, ok
}

// Strings returns the string array value of key. The slice is shared with
// the File and must not be modified.
func (f *File) Strings(key string) ([]string, bool) {
	a, ok := f.array(key)
	if !ok {
		return nil, false
	}
	s, ok := a.Values.([]string)
	return s, ok
}

// Float32s returns the FLOAT32 array value of key. The slice is shared with
// the File and must not be modified.
func (f *File) Float32s(key string) ([]float32, bool) {
	a, ok := f.array(key)
	if !ok {
		return nil, false
	}
	s, ok := a.Values.([]float32)
	return s, ok
}

// Int32s returns the integer array value of key as []int32. An INT32 array
// is returned shared (do not modify it); other integer arrays are converted
// and fail if any element does not fit in int32.
func (f *File) Int32s(key string) ([]int32, bool) {
	a, ok := f.array(key)
	if !ok {
		return nil, false
	}
	switch v := a.Values.(type) {
	case []int32:
		return v, true
	case []uint8:
		return convInts(v)
	case []int8:
		return convInts(v)
	case []uint16:
		return convInts(v)
	case []int16:
		return convInts(v)
	case []uint32:
		return convInts(v)
	case []uint64:
		return convInts(v)
	case []int64:
		return convInts(v)
	}
	return nil, false
}

func convInts[T uint8 | int8 | uint16 | int16 | uint32 | uint64 | int64](v []T) ([]int32, bool) {
	out := make([]int32, len(v))
	for i, x := range v {
		if int64(x) < math.MinInt32 || (x > 0 && uint64(x) > math.MaxInt32) {
			return nil, false
		}
		out[i] = int32(x)
	}
	return out, true
}

// Tensor returns the tensor named name.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.tensorIndex[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// Arch returns general.architecture, or "" when absent.
func (f *File) Arch() string {
	s, _ := f.String("general.architecture")
	return s
}

func toUint(v any) (uint64, bool) {
	switch x := v.(type) {
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	}
	if i, ok := toInt(v); ok && i >= 0 {
		return uint64(i), true
	}
	return 0, false
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case uint8:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}
