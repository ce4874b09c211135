package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
)

// Builder assembles a GGUF file in memory and writes it in llama.cpp's
// layout: header, metadata, tensor infos, zero padding to the alignment,
// then each tensor's data padded with zeros to the alignment.
//
// Tensor data passed to AddTensor is not copied; it must stay unchanged
// until the file is written. A Builder is not safe for concurrent use.
type Builder struct {
	version     uint32
	kvs         []KV
	kvIndex     map[string]int
	tensors     []TensorInfo
	tensorIndex map[string]int
}

// NewBuilder returns an empty Builder for a GGUF v3 file with the default
// alignment of 32 (set general.alignment to change it).
func NewBuilder() *Builder {
	return &Builder{version: 3, kvIndex: map[string]int{}, tensorIndex: map[string]int{}}
}

// NewBuilderFrom returns a Builder holding a copy of f's version, metadata
// (same order and types) and tensors (their Data is shared, not copied).
func NewBuilderFrom(f *File) (*Builder, error) {
	b := NewBuilder()
	if err := b.SetVersion(f.Version); err != nil {
		return nil, err
	}
	for _, kv := range f.KVs {
		if err := b.SetKV(kv.Key, kv.Value); err != nil {
			return nil, err
		}
	}
	for _, t := range f.Tensors {
		if err := b.AddTensor(t.Name, t.Type, t.Dims, t.Data); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// SetVersion sets the GGUF version written, 2 or 3 (the default). The two
// share one little-endian layout.
func (b *Builder) SetVersion(v uint32) error {
	if v != 2 && v != 3 {
		return fmt.Errorf("gguf: cannot write version %d (only 2 and 3): %w", v, ErrUnsupported)
	}
	b.version = v
	return nil
}

// SetKV sets metadata key to value, replacing an existing entry in place or
// appending a new one (insertion order is kept). value may be any of uint8,
// int8, uint16, int16, uint32, int32, float32, bool, string, uint64, int64,
// float64, an Array, or a slice of one of those scalar types or of Array.
// An int is written as INT32 when it fits, else INT64; a uint as UINT32 when
// it fits, else UINT64; []int and []uint likewise by their largest element.
// general.alignment accepts any integer, stored as UINT32, and must be a
// power of two. Slices are copied.
func (b *Builder) SetKV(key string, value any) error {
	if key == "" {
		return errors.New("gguf: empty metadata key")
	}
	t, v, err := normalize(value, 0)
	if err != nil {
		return fmt.Errorf("gguf: key %q: %w", key, err)
	}
	if key == KeyAlignment {
		a, ok := toUint(v)
		if !ok || a == 0 || a > math.MaxUint32 || a&(a-1) != 0 {
			return fmt.Errorf("gguf: key %q: alignment %v is not a power of two that fits in uint32", key, value)
		}
		t, v = TypeUint32, uint32(a)
	}
	kv := KV{Key: key, Type: t, Value: v}
	if i, ok := b.kvIndex[key]; ok {
		b.kvs[i] = kv
		return nil
	}
	b.kvIndex[key] = len(b.kvs)
	b.kvs = append(b.kvs, kv)
	return nil
}

// DeleteKV removes key if present; the order of the other entries is kept.
func (b *Builder) DeleteKV(key string) {
	i, ok := b.kvIndex[key]
	if !ok {
		return
	}
	b.kvs = slices.Delete(b.kvs, i, i+1)
	delete(b.kvIndex, key)
	for j := i; j < len(b.kvs); j++ {
		b.kvIndex[b.kvs[j].Key] = j
	}
}

// normalize maps a Go value to its GGUF value type and canonical Go form.
func normalize(value any, depth int) (ValueType, any, error) {
	switch v := value.(type) {
	case uint8:
		return TypeUint8, v, nil
	case int8:
		return TypeInt8, v, nil
	case uint16:
		return TypeUint16, v, nil
	case int16:
		return TypeInt16, v, nil
	case uint32:
		return TypeUint32, v, nil
	case int32:
		return TypeInt32, v, nil
	case float32:
		return TypeFloat32, v, nil
	case bool:
		return TypeBool, v, nil
	case string:
		return TypeString, v, nil
	case uint64:
		return TypeUint64, v, nil
	case int64:
		return TypeInt64, v, nil
	case float64:
		return TypeFloat64, v, nil
	case int:
		if v >= math.MinInt32 && v <= math.MaxInt32 {
			return TypeInt32, int32(v), nil
		}
		return TypeInt64, int64(v), nil
	case uint:
		if v <= math.MaxUint32 {
			return TypeUint32, uint32(v), nil
		}
		return TypeUint64, uint64(v), nil
	case Array:
		a, err := normalizeArray(v, depth+1)
		return TypeArray, a, err
	}
	a, err := sliceArray(value)
	if err != nil {
		return 0, nil, err
	}
	a, err = normalizeArray(a, depth+1)
	return TypeArray, a, err
}

// sliceArray wraps a plain Go slice as an Array.
func sliceArray(value any) (Array, error) {
	switch v := value.(type) {
	case []uint8:
		return Array{TypeUint8, v}, nil
	case []int8:
		return Array{TypeInt8, v}, nil
	case []uint16:
		return Array{TypeUint16, v}, nil
	case []int16:
		return Array{TypeInt16, v}, nil
	case []uint32:
		return Array{TypeUint32, v}, nil
	case []int32:
		return Array{TypeInt32, v}, nil
	case []float32:
		return Array{TypeFloat32, v}, nil
	case []bool:
		return Array{TypeBool, v}, nil
	case []string:
		return Array{TypeString, v}, nil
	case []uint64:
		return Array{TypeUint64, v}, nil
	case []int64:
		return Array{TypeInt64, v}, nil
	case []float64:
		return Array{TypeFloat64, v}, nil
	case []Array:
		return Array{TypeArray, v}, nil
	case []int:
		fits := true
		for _, x := range v {
			if x < math.MinInt32 || x > math.MaxInt32 {
				fits = false
				break
			}
		}
		if fits {
			out := make([]int32, len(v))
			for i, x := range v {
				out[i] = int32(x)
			}
			return Array{TypeInt32, out}, nil
		}
		out := make([]int64, len(v))
		for i, x := range v {
			out[i] = int64(x)
		}
		return Array{TypeInt64, out}, nil
	case []uint:
		if slices.IndexFunc(v, func(x uint) bool { return x > math.MaxUint32 }) < 0 {
			out := make([]uint32, len(v))
			for i, x := range v {
				out[i] = uint32(x)
			}
			return Array{TypeUint32, out}, nil
		}
		out := make([]uint64, len(v))
		for i, x := range v {
			out[i] = uint64(x)
		}
		return Array{TypeUint64, out}, nil
	}
	return Array{}, fmt.Errorf("unsupported value type %T", value)
}

// normalizeArray checks that a.Values matches a.Type and returns a copy.
func normalizeArray(a Array, depth int) (Array, error) {
	if depth > maxArrayDepth {
		return Array{}, fmt.Errorf("arrays nested deeper than %d", maxArrayDepth)
	}
	if a.Type == TypeArray {
		v, ok := a.Values.([]Array)
		if !ok {
			return Array{}, fmt.Errorf("array of type ARRAY holds %T, want []Array", a.Values)
		}
		out := make([]Array, len(v))
		for i := range v {
			var err error
			if out[i], err = normalizeArray(v[i], depth+1); err != nil {
				return Array{}, fmt.Errorf("element %d: %w", i, err)
			}
		}
		return Array{TypeArray, out}, nil
	}
	w, err := sliceArray(a.Values)
	if err != nil {
		return Array{}, err
	}
	if w.Type != a.Type {
		return Array{}, fmt.Errorf("array of type %v holds %T", a.Type, a.Values)
	}
	switch v := w.Values.(type) {
	case []uint8:
		w.Values = slices.Clone(v)
	case []int8:
		w.Values = slices.Clone(v)
	case []uint16:
		w.Values = slices.Clone(v)
	case []int16:
		w.Values = slices.Clone(v)
	case []uint32:
		w.Values = slices.Clone(v)
	case []int32:
		w.Values = slices.Clone(v)
	case []float32:
		w.Values = slices.Clone(v)
	case []bool:
		w.Values = slices.Clone(v)
	case []string:
		w.Values = slices.Clone(v)
	case []uint64:
		w.Values = slices.Clone(v)
	case []int64:
		w.Values = slices.Clone(v)
	case []float64:
		w.Values = slices.Clone(v)
	}
	return w, nil
}

// AddTensor appends a tensor. dims are in ggml order (dims[0] is the row
// length) and may number 0 to 4; len(data) must equal the type's row size
// for dims[0] times the number of rows. data is not copied.
func (b *Builder) AddTensor(name string, typ TensorType, dims []uint64, data []byte) error {
	if name == "" {
		return errors.New("gguf: empty tensor name")
	}
	if _, dup := b.tensorIndex[name]; dup {
		return fmt.Errorf("gguf: tensor %q added twice", name)
	}
	size, err := tensorSize(typ, dims)
	if err != nil {
		return fmt.Errorf("gguf: tensor %q: %w", name, err)
	}
	if uint64(len(data)) != size {
		return fmt.Errorf("gguf: tensor %q: %d bytes of data, want %d for %v %v", name, len(data), size, typ, dims)
	}
	b.tensorIndex[name] = len(b.tensors)
	b.tensors = append(b.tensors, TensorInfo{Name: name, Dims: slices.Clone(dims), Type: typ, Size: size, Data: data})
	return nil
}

// tensorSize returns the byte size of a tensor of type typ and shape dims.
func tensorSize(typ TensorType, dims []uint64) (uint64, error) {
	if !typ.Known() {
		return 0, fmt.Errorf("tensor type %v has no known layout: %w", typ, ErrUnsupported)
	}
	if len(dims) > MaxDims {
		return 0, fmt.Errorf("%d dims, at most %d allowed", len(dims), MaxDims)
	}
	elems := uint64(1)
	for i, d := range dims {
		hi, lo := bits.Mul64(elems, d)
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("element count overflows at dim[%d] = %d", i, d)
		}
		elems = lo
	}
	bs, ts := uint64(typ.BlockSize()), uint64(typ.TypeSize())
	if len(dims) > 0 && dims[0]%bs != 0 {
		return 0, fmt.Errorf("row length %d is not a multiple of the %v block size %d", dims[0], typ, bs)
	}
	hi, size := bits.Mul64(elems/bs, ts)
	if hi != 0 || size > math.MaxInt64 {
		return 0, fmt.Errorf("size of %d elements of %v overflows", elems, typ)
	}
	return size, nil
}

// alignment returns the data alignment the file will use.
func (b *Builder) alignment() uint64 {
	if i, ok := b.kvIndex[KeyAlignment]; ok {
		return uint64(b.kvs[i].Value.(uint32))
	}
	return DefaultAlignment
}

// WriteTo writes the file to w and returns the number of bytes written.
func (b *Builder) WriteTo(w io.Writer) (int64, error) {
	align := b.alignment()
	meta := make([]byte, 0, 4096)
	meta = append(meta, Magic...)
	meta = binary.LittleEndian.AppendUint32(meta, b.version)
	meta = binary.LittleEndian.AppendUint64(meta, uint64(len(b.tensors)))
	meta = binary.LittleEndian.AppendUint64(meta, uint64(len(b.kvs)))
	for _, kv := range b.kvs {
		meta = appendString(meta, kv.Key)
		meta = binary.LittleEndian.AppendUint32(meta, uint32(kv.Type))
		meta = appendValue(meta, kv.Type, kv.Value)
	}
	offset := uint64(0)
	for _, t := range b.tensors {
		meta = appendString(meta, t.Name)
		meta = binary.LittleEndian.AppendUint32(meta, uint32(len(t.Dims)))
		for _, d := range t.Dims {
			meta = binary.LittleEndian.AppendUint64(meta, d)
		}
		meta = binary.LittleEndian.AppendUint32(meta, uint32(t.Type))
		meta = binary.LittleEndian.AppendUint64(meta, offset)
		offset += alignUp(t.Size, align)
	}
	meta = append(meta, make([]byte, alignUp(uint64(len(meta)), align)-uint64(len(meta)))...)

	var n int64
	m, err := w.Write(meta)
	n += int64(m)
	if err != nil {
		return n, fmt.Errorf("gguf: write metadata: %w", err)
	}
	pad := make([]byte, align)
	for _, t := range b.tensors {
		m, err := w.Write(t.Data)
		n += int64(m)
		if err != nil {
			return n, fmt.Errorf("gguf: write tensor %q: %w", t.Name, err)
		}
		if p := alignUp(t.Size, align) - t.Size; p > 0 {
			m, err := w.Write(pad[:p])
			n += int64(m)
			if err != nil {
				return n, fmt.Errorf("gguf: write tensor %q padding: %w", t.Name, err)
			}
		}
	}
	return n, nil
}

// WriteFile writes the file to path atomically: to a temporary file in the
// same folder, then renamed over path.
func (b *Builder) WriteFile(path string) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("gguf: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if _, err = b.WriteTo(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("gguf: write %s: %w", path, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("gguf: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("gguf: write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("gguf: %w", err)
	}
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// appendValue encodes v, which normalize has already checked against t.
func appendValue(b []byte, t ValueType, v any) []byte {
	le := binary.LittleEndian
	switch t {
	case TypeUint8:
		return append(b, v.(uint8))
	case TypeInt8:
		return append(b, uint8(v.(int8)))
	case TypeUint16:
		return le.AppendUint16(b, v.(uint16))
	case TypeInt16:
		return le.AppendUint16(b, uint16(v.(int16)))
	case TypeUint32:
		return le.AppendUint32(b, v.(uint32))
	case TypeInt32:
		return le.AppendUint32(b, uint32(v.(int32)))
	case TypeFloat32:
		return le.AppendUint32(b, math.Float32bits(v.(float32)))
	case TypeBool:
		if v.(bool) {
			return append(b, 1)
		}
		return append(b, 0)
	case TypeString:
		return appendString(b, v.(string))
	case TypeUint64:
		return le.AppendUint64(b, v.(uint64))
	case TypeInt64:
		return le.AppendUint64(b, uint64(v.(int64)))
	case TypeFloat64:
		return le.AppendUint64(b, math.Float64bits(v.(float64)))
	case TypeArray:
		a := v.(Array)
		b = le.AppendUint32(b, uint32(a.Type))
		b = le.AppendUint64(b, uint64(a.Len()))
		switch vals := a.Values.(type) {
		case []uint8:
			return append(b, vals...)
		case []int8:
			for _, x := range vals {
				b = append(b, uint8(x))
			}
		case []uint16:
			for _, x := range vals {
				b = le.AppendUint16(b, x)
			}
		case []int16:
			for _, x := range vals {
				b = le.AppendUint16(b, uint16(x))
			}
		case []uint32:
			for _, x := range vals {
				b = le.AppendUint32(b, x)
			}
		case []int32:
			for _, x := range vals {
				b = le.AppendUint32(b, uint32(x))
			}
		case []float32:
			for _, x := range vals {
				b = le.AppendUint32(b, math.Float32bits(x))
			}
		case []bool:
			for _, x := range vals {
				b = appendValue(b, TypeBool, x)
			}
		case []string:
			for _, x := range vals {
				b = appendString(b, x)
			}
		case []uint64:
			for _, x := range vals {
				b = le.AppendUint64(b, x)
			}
		case []int64:
			for _, x := range vals {
				b = le.AppendUint64(b, uint64(x))
			}
		case []float64:
			for _, x := range vals {
				b = le.AppendUint64(b, math.Float64bits(x))
			}
		case []Array:
			for _, x := range vals {
				b = appendValue(b, TypeArray, x)
			}
		}
		return b
	}
	panic(fmt.Sprintf("gguf: appendValue: unnormalized type %v", t))
}
