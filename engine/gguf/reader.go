package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
)

// Magic is the four bytes every GGUF file starts with.
const Magic = "GGUF"

// DefaultAlignment is the data alignment used when general.alignment is
// absent.
const DefaultAlignment = 32

// MaxDims is the largest number of dimensions a tensor may have (ggml's
// GGML_MAX_DIMS).
const MaxDims = 4

// KeyAlignment is the metadata key that sets the data alignment.
const KeyAlignment = "general.alignment"

// maxArrayDepth bounds nesting of arrays inside arrays.
const maxArrayDepth = 8

// Smallest encodings, used to bound counts by the bytes that remain.
const (
	minKVBytes     = 8 + 4 + 1     // key length, value type, one-byte value
	minTensorBytes = 8 + 4 + 4 + 8 // name length, n_dims, type, offset
)

// parser reads one GGUF image. It keeps enough context (section, index,
// name) to name the field in any error it returns.
type parser struct {
	data    []byte
	pos     int
	section string // "header", "kv", "tensor"
	index   int    // kv or tensor index
	name    string // key or tensor name once read
	elem    int    // array element index, or -1
}

func (p *parser) where() string {
	var s string
	switch p.section {
	case "kv", "tensor":
		s = fmt.Sprintf("%s[%d]", p.section, p.index)
		if p.name != "" {
			s += fmt.Sprintf(" %q", p.name)
		}
	default:
		s = p.section
	}
	if p.elem >= 0 {
		s += fmt.Sprintf(" element %d", p.elem)
	}
	return s
}

func (p *parser) errorf(sentinel error, format string, args ...any) error {
	return &FormatError{Field: p.where(), Offset: int64(p.pos), Msg: fmt.Sprintf(format, args...), Err: sentinel}
}

func (p *parser) remaining() int { return len(p.data) - p.pos }

// need checks that n more bytes are available for what.
func (p *parser) need(n uint64, what string) error {
	if n > uint64(p.remaining()) {
		return p.errorf(ErrMalformed, "truncated: %s needs %d bytes, %d remain", what, n, p.remaining())
	}
	return nil
}

func (p *parser) u8(what string) (uint8, error) {
	if err := p.need(1, what); err != nil {
		return 0, err
	}
	v := p.data[p.pos]
	p.pos++
	return v, nil
}

func (p *parser) u16(what string) (uint16, error) {
	if err := p.need(2, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint16(p.data[p.pos:])
	p.pos += 2
	return v, nil
}

func (p *parser) u32(what string) (uint32, error) {
	if err := p.need(4, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(p.data[p.pos:])
	p.pos += 4
	return v, nil
}

func (p *parser) u64(what string) (uint64, error) {
	if err := p.need(8, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint64(p.data[p.pos:])
	p.pos += 8
	return v, nil
}

// strBytes reads a length-prefixed string and returns its bytes, aliasing
// the input.
func (p *parser) strBytes(what string) ([]byte, error) {
	if p.remaining() < 8 {
		return nil, p.errorf(ErrMalformed, "truncated: %s length needs 8 bytes, %d remain", what, p.remaining())
	}
	n := binary.LittleEndian.Uint64(p.data[p.pos:])
	p.pos += 8
	if n > uint64(p.remaining()) {
		p.pos -= 8
		return nil, p.errorf(ErrMalformed, "%s length %d exceeds remaining %d bytes", what, n, p.remaining()-8)
	}
	b := p.data[p.pos : p.pos+int(n) : p.pos+int(n)]
	p.pos += int(n)
	return b, nil
}

func (p *parser) str(what string) (string, error) {
	b, err := p.strBytes(what)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Parse parses a GGUF image held in memory. The tensors' Data slices alias
// data, so data must stay alive and unmodified while they are used; the
// metadata is copied.
func Parse(data []byte) (*File, error) {
	f, err := parse(data)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func parse(data []byte) (*File, error) {
	p := &parser{data: data, section: "header", elem: -1}

	// Header.
	if len(data) < 4 {
		return nil, p.errorf(ErrMalformed, "truncated: magic needs 4 bytes, %d remain", len(data))
	}
	switch string(data[:4]) {
	case Magic:
	case "FUGG":
		return nil, p.errorf(ErrUnsupported, "big-endian GGUF files are not supported")
	default:
		return nil, p.errorf(ErrMalformed, "bad magic %q, want %q", data[:4], Magic)
	}
	p.pos = 4
	version, err := p.u32("version")
	if err != nil {
		return nil, err
	}
	switch {
	case version == 2 || version == 3:
	case version == 1:
		p.pos -= 4
		return nil, p.errorf(ErrUnsupported, "GGUF version 1 is not supported (only v2 and v3); re-convert the model with a current llama.cpp")
	case bits.ReverseBytes32(version) >= 1 && bits.ReverseBytes32(version) <= 3:
		p.pos -= 4
		return nil, p.errorf(ErrUnsupported, "big-endian GGUF files are not supported (version field reads %#x)", version)
	default:
		p.pos -= 4
		return nil, p.errorf(ErrUnsupported, "GGUF version %d is not supported (only v2 and v3)", version)
	}
	tensorCount, err := p.u64("tensor count")
	if err != nil {
		return nil, err
	}
	kvCount, err := p.u64("kv count")
	if err != nil {
		return nil, err
	}
	if kvCount > uint64(p.remaining()/minKVBytes) {
		p.pos -= 8
		return nil, p.errorf(ErrMalformed, "kv count %d exceeds what the remaining %d bytes can hold", kvCount, p.remaining()-8)
	}
	if tensorCount > uint64(p.remaining()/minTensorBytes) {
		p.pos -= 16
		return nil, p.errorf(ErrMalformed, "tensor count %d exceeds what the remaining %d bytes can hold", tensorCount, p.remaining()-16)
	}

	f := &File{
		Version:   version,
		Alignment: DefaultAlignment,
		KVs:       make([]KV, 0, kvCount),
		kvIndex:   make(map[string]int, kvCount),
	}

	// Metadata.
	p.section = "kv"
	for i := range int(kvCount) {
		p.index, p.name = i, ""
		key, err := p.str("key")
		if err != nil {
			return nil, err
		}
		p.name = key
		if key == "" {
			return nil, p.errorf(ErrMalformed, "empty key")
		}
		if _, dup := f.kvIndex[key]; dup {
			return nil, p.errorf(ErrMalformed, "duplicate key")
		}
		t, err := p.u32("value type")
		if err != nil {
			return nil, err
		}
		vt := ValueType(t)
		if !vt.Valid() {
			p.pos -= 4
			return nil, p.errorf(ErrMalformed, "unknown value type %d", t)
		}
		v, err := p.value(vt, 0)
		if err != nil {
			return nil, err
		}
		f.kvIndex[key] = len(f.KVs)
		f.KVs = append(f.KVs, KV{Key: key, Type: vt, Value: v})
	}
	if i, ok := f.kvIndex[KeyAlignment]; ok {
		kv := f.KVs[i]
		p.index, p.name = i, kv.Key
		a, isU32 := kv.Value.(uint32)
		if !isU32 {
			return nil, p.errorf(ErrMalformed, "alignment has type %v, want UINT32", kv.Type)
		}
		if a == 0 || a&(a-1) != 0 {
			return nil, p.errorf(ErrMalformed, "alignment %d is not a power of two", a)
		}
		f.Alignment = uint64(a)
	}

	// Tensor infos.
	p.section, p.name = "tensor", ""
	if tensorCount > uint64(p.remaining()/minTensorBytes) {
		p.index = 0
		return nil, p.errorf(ErrMalformed, "tensor count %d (from the header) exceeds what the remaining %d bytes can hold", tensorCount, p.remaining())
	}
	f.Tensors = make([]TensorInfo, tensorCount)
	f.tensorIndex = make(map[string]int, tensorCount)
	for i := range f.Tensors {
		p.index, p.name = i, ""
		if err := p.tensorInfo(&f.Tensors[i], f.Alignment); err != nil {
			return nil, err
		}
		name := f.Tensors[i].Name
		if _, dup := f.tensorIndex[name]; dup {
			return nil, p.errorf(ErrMalformed, "duplicate tensor name")
		}
		f.tensorIndex[name] = i
	}

	// Data section.
	p.section, p.name = "data", ""
	f.DataOffset = alignUp(uint64(p.pos), f.Alignment)
	if err := p.placeTensors(f); err != nil {
		return nil, err
	}
	return f, nil
}

func alignUp(n, a uint64) uint64 {
	return (n + a - 1) / a * a
}

// tensorInfo reads one tensor info into ti and computes its size.
func (p *parser) tensorInfo(ti *TensorInfo, alignment uint64) error {
	name, err := p.str("name")
	if err != nil {
		return err
	}
	if name == "" {
		return p.errorf(ErrMalformed, "empty tensor name")
	}
	ti.Name = name
	p.name = name
	nd, err := p.u32("n_dims")
	if err != nil {
		return err
	}
	if nd > MaxDims {
		p.pos -= 4
		return p.errorf(ErrMalformed, "n_dims %d exceeds the maximum %d", nd, MaxDims)
	}
	if err := p.need(uint64(nd)*8, "dims"); err != nil {
		return err
	}
	ti.Dims = make([]uint64, nd)
	elems := uint64(1)
	for d := range ti.Dims {
		v := binary.LittleEndian.Uint64(p.data[p.pos:])
		if v > math.MaxInt64 {
			return p.errorf(ErrMalformed, "dim[%d] = %d is negative as int64", d, v)
		}
		hi, lo := bits.Mul64(elems, v)
		if hi != 0 || lo > math.MaxInt64 {
			return p.errorf(ErrMalformed, "element count overflows at dim[%d] = %d", d, v)
		}
		elems = lo
		ti.Dims[d] = v
		p.pos += 8
	}
	t, err := p.u32("type")
	if err != nil {
		return err
	}
	tt := TensorType(t)
	if !tt.Known() {
		p.pos -= 4
		if int(t) < len(typeTraits) {
			return p.errorf(ErrUnsupported, "tensor type %v (%d) was removed from ggml", tt, t)
		}
		return p.errorf(ErrUnsupported, "unknown tensor type %d", t)
	}
	ti.Type = tt
	row := uint64(1)
	if nd > 0 {
		row = ti.Dims[0]
	}
	bs, ts := uint64(tt.BlockSize()), uint64(tt.TypeSize())
	if row%bs != 0 {
		p.pos -= 4
		return p.errorf(ErrMalformed, "row length %d is not a multiple of the %v block size %d", row, tt, bs)
	}
	// elems/bs blocks of ts bytes; elems/bs*ts cannot overflow in 128 bits.
	hi, size := bits.Mul64(elems/bs, ts)
	if hi != 0 || size > math.MaxInt64 {
		return p.errorf(ErrMalformed, "tensor size overflows (%d elements of %v)", elems, tt)
	}
	ti.Size = size
	off, err := p.u64("offset")
	if err != nil {
		return err
	}
	if off%alignment != 0 {
		p.pos -= 8
		return p.errorf(ErrMalformed, "offset %d is not a multiple of the alignment %d", off, alignment)
	}
	ti.Offset = off
	return nil
}

// placeTensors checks every tensor lies inside the file without overlap and
// points its Data into the image.
func (p *parser) placeTensors(f *File) error {
	if len(f.Tensors) == 0 {
		return nil
	}
	fileLen := uint64(len(p.data))
	if f.DataOffset > fileLen {
		return p.errorf(ErrMalformed, "data section starts at %d, past the end of the %d-byte file", f.DataOffset, fileLen)
	}
	avail := fileLen - f.DataOffset
	p.section = "tensor"
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		p.index, p.name = i, ti.Name
		if ti.Offset > avail || ti.Size > avail-ti.Offset {
			return p.errorf(ErrMalformed, "data [%d, +%d) relative to the data section at %d runs past the end of the %d-byte file", ti.Offset, ti.Size, f.DataOffset, fileLen)
		}
		start := int(f.DataOffset + ti.Offset)
		end := start + int(ti.Size)
		ti.Data = p.data[start:end:end]
	}
	order := make([]int, len(f.Tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ta, tb := &f.Tensors[a], &f.Tensors[b]
		if ta.Offset != tb.Offset {
			if ta.Offset < tb.Offset {
				return -1
			}
			return 1
		}
		return a - b
	})
	for k := 1; k < len(order); k++ {
		prev, cur := &f.Tensors[order[k-1]], &f.Tensors[order[k]]
		if prev.Offset+prev.Size > cur.Offset {
			p.index, p.name = order[k], cur.Name
			return p.errorf(ErrMalformed, "data [%d, +%d) overlaps tensor %q at [%d, +%d)", cur.Offset, cur.Size, prev.Name, prev.Offset, prev.Size)
		}
	}
	return nil
}

// value reads one value of type t.
func (p *parser) value(t ValueType, depth int) (any, error) {
	switch t {
	case TypeUint8:
		return p.u8("UINT8 value")
	case TypeInt8:
		v, err := p.u8("INT8 value")
		return int8(v), err
	case TypeUint16:
		return p.u16("UINT16 value")
	case TypeInt16:
		v, err := p.u16("INT16 value")
		return int16(v), err
	case TypeUint32:
		return p.u32("UINT32 value")
	case TypeInt32:
		v, err := p.u32("INT32 value")
		return int32(v), err
	case TypeFloat32:
		v, err := p.u32("FLOAT32 value")
		return math.Float32frombits(v), err
	case TypeBool:
		v, err := p.u8("BOOL value")
		if err != nil {
			return false, err
		}
		if v > 1 {
			p.pos--
			return false, p.errorf(ErrMalformed, "bool value %d is neither 0 nor 1", v)
		}
		return v == 1, nil
	case TypeString:
		return p.str("string")
	case TypeArray:
		return p.array(depth + 1)
	case TypeUint64:
		return p.u64("UINT64 value")
	case TypeInt64:
		v, err := p.u64("INT64 value")
		return int64(v), err
	case TypeFloat64:
		v, err := p.u64("FLOAT64 value")
		return math.Float64frombits(v), err
	}
	return nil, p.errorf(ErrMalformed, "unknown value type %d", uint32(t))
}

// array reads an array's element type, length and elements.
func (p *parser) array(depth int) (Array, error) {
	if depth > maxArrayDepth {
		return Array{}, p.errorf(ErrMalformed, "arrays nested deeper than %d", maxArrayDepth)
	}
	t, err := p.u32("array element type")
	if err != nil {
		return Array{}, err
	}
	et := ValueType(t)
	if !et.Valid() {
		p.pos -= 4
		return Array{}, p.errorf(ErrMalformed, "unknown array element type %d", t)
	}
	n64, err := p.u64("array length")
	if err != nil {
		return Array{}, err
	}
	if n64 > uint64(p.remaining()/et.minSize()) {
		p.pos -= 8
		return Array{}, p.errorf(ErrMalformed, "array length %d exceeds remaining %d bytes (each %v element needs at least %d)", n64, p.remaining()-8, et, et.minSize())
	}
	n := int(n64)
	a := Array{Type: et}
	if sz := et.fixedSize(); sz > 0 {
		// Bounds were checked above: n*sz <= remaining.
		b := p.data[p.pos : p.pos+n*sz]
		a.Values, err = p.decodeFixed(et, b, n)
		if err != nil {
			return Array{}, err
		}
		p.pos += n * sz
		return a, nil
	}
	switch et {
	case TypeString:
		a.Values, err = p.stringArray(n)
	case TypeArray:
		// Grown as elements parse: each level of nesting may claim a
		// count bounded only by the bytes left, and preallocating at
		// every level would multiply that.
		vals := make([]Array, 0, min(n, 64))
		saved := p.elem
		for i := range n {
			p.elem = i
			v, err := p.array(depth + 1)
			if err != nil {
				return Array{}, err
			}
			vals = append(vals, v)
		}
		p.elem = saved
		a.Values = vals
	}
	if err != nil {
		return Array{}, err
	}
	return a, nil
}

// decodeFixed decodes n fixed-size elements from b.
func (p *parser) decodeFixed(t ValueType, b []byte, n int) (any, error) {
	le := binary.LittleEndian
	switch t {
	case TypeUint8:
		return slices.Clone(b), nil
	case TypeInt8:
		v := make([]int8, n)
		for i := range v {
			v[i] = int8(b[i])
		}
		return v, nil
	case TypeBool:
		v := make([]bool, n)
		for i := range v {
			if b[i] > 1 {
				p.pos += i
				p.elem = i
				return nil, p.errorf(ErrMalformed, "bool value %d is neither 0 nor 1", b[i])
			}
			v[i] = b[i] == 1
		}
		return v, nil
	case TypeUint16:
		v := make([]uint16, n)
		for i := range v {
			v[i] = le.Uint16(b[2*i:])
		}
		return v, nil
	case TypeInt16:
		v := make([]int16, n)
		for i := range v {
			v[i] = int16(le.Uint16(b[2*i:]))
		}
		return v, nil
	case TypeUint32:
		v := make([]uint32, n)
		for i := range v {
			v[i] = le.Uint32(b[4*i:])
		}
		return v, nil
	case TypeInt32:
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(le.Uint32(b[4*i:]))
		}
		return v, nil
	case TypeFloat32:
		v := make([]float32, n)
		for i := range v {
			v[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
		return v, nil
	case TypeUint64:
		v := make([]uint64, n)
		for i := range v {
			v[i] = le.Uint64(b[8*i:])
		}
		return v, nil
	case TypeInt64:
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(le.Uint64(b[8*i:]))
		}
		return v, nil
	case TypeFloat64:
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Float64frombits(le.Uint64(b[8*i:]))
		}
		return v, nil
	}
	return nil, p.errorf(ErrMalformed, "unknown value type %d", uint32(t))
}

// stringArray reads n strings. A first pass checks every length against the
// bytes that remain and sums them; the second copies all of them into one
// buffer, so a 150k-entry vocabulary costs two allocations, not 150k.
func (p *parser) stringArray(n int) ([]string, error) {
	start := p.pos
	total := 0
	for i := range n {
		p.elem = i
		b, err := p.strBytes("string")
		if err != nil {
			return nil, err
		}
		total += len(b)
	}
	p.elem = -1
	var sb strings.Builder
	sb.Grow(total)
	ends := make([]int, n)
	p.pos = start
	for i := range n {
		l := int(binary.LittleEndian.Uint64(p.data[p.pos:]))
		p.pos += 8
		sb.Write(p.data[p.pos : p.pos+l])
		p.pos += l
		ends[i] = sb.Len()
	}
	all := sb.String()
	out := make([]string, n)
	prev := 0
	for i, e := range ends {
		out[i] = all[prev:e]
		prev = e
	}
	return out, nil
}
