package hf

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"sort"

	"github.com/baco-go/baco/engine/gguf"
)

// maxHeaderBytes bounds a safetensors JSON header (the format's own limit
// is 100 MB).
const maxHeaderBytes = 100 << 20

// dtypeSizes is the element size of every safetensors dtype.
var dtypeSizes = map[string]uint64{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// ggmlTypes maps the dtypes the engine runs to ggml tensor types.
var ggmlTypes = map[string]gguf.TensorType{"F32": gguf.TypeF32, "F16": gguf.TypeF16, "BF16": gguf.TypeBF16}

// stTensor is one tensor of a safetensors file: Shape is row-major (last
// dim innermost) and Data is a slice of the file's mapping.
type stTensor struct {
	Name  string
	DType string
	Shape []uint64
	Data  []byte
	File  string // the file it came from, for errors
}

// stFile is one memory-mapped safetensors file.
type stFile struct {
	path    string
	mapping []byte
	tensors []stTensor
}

// openSafetensors maps path read-only and parses its header.
func openSafetensors(path string) (*stFile, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, err
	}
	size, name := st.Size(), filepath.Base(path)
	if size < 8 {
		return nil, fmt.Errorf("%s: %d bytes is too short for a safetensors file", name, size)
	}
	if uint64(size) > math.MaxInt {
		return nil, fmt.Errorf("%s: size %d cannot be mapped", name, size)
	}
	data, err := mapFile(fd, int(size))
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", name, err)
	}
	ts, err := parseSafetensors(name, data)
	if err != nil {
		_ = unmapFile(data)
		return nil, err
	}
	return &stFile{path: path, mapping: data, tensors: ts}, nil
}

// close releases the mapping.
func (f *stFile) close() error {
	if f.mapping == nil {
		return nil
	}
	m := f.mapping
	f.mapping = nil
	return unmapFile(m)
}

// parseSafetensors reads the header of a safetensors image: an 8-byte
// little-endian header length, a JSON object mapping tensor names to
// {dtype, shape, data_offsets} (plus an optional "__metadata__"), then the
// data. Every tensor's extent is checked against the data before use; the
// returned tensors are sorted by name.
func parseSafetensors(name string, data []byte) ([]stTensor, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("%s: %d bytes is too short for a safetensors file", name, len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > maxHeaderBytes || n > uint64(len(data)-8) {
		return nil, fmt.Errorf("%s: safetensors header length %d exceeds the file (%d bytes) or the %d-byte limit", name, n, len(data), maxHeaderBytes)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &header); err != nil {
		return nil, fmt.Errorf("%s: safetensors header: %w", name, err)
	}
	body := data[8+n:]
	out := make([]stTensor, 0, len(header))
	for key, raw := range header {
		if key == "__metadata__" {
			continue
		}
		var e struct {
			DType       string   `json:"dtype"`
			Shape       []uint64 `json:"shape"`
			DataOffsets []uint64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("%s: tensor %q: %w", name, key, err)
		}
		size, ok := dtypeSizes[e.DType]
		if !ok {
			return nil, fmt.Errorf("%s: tensor %q: unknown dtype %q", name, key, e.DType)
		}
		if len(e.DataOffsets) != 2 {
			return nil, fmt.Errorf("%s: tensor %q: data_offsets has %d values, want 2", name, key, len(e.DataOffsets))
		}
		if len(e.Shape) > gguf.MaxDims {
			return nil, fmt.Errorf("%s: tensor %q: %d dims, at most %d supported", name, key, len(e.Shape), gguf.MaxDims)
		}
		elems := uint64(1)
		for _, d := range e.Shape {
			hi, lo := bits.Mul64(elems, d)
			if hi != 0 {
				return nil, fmt.Errorf("%s: tensor %q: shape %v overflows", name, key, e.Shape)
			}
			elems = lo
		}
		hi, want := bits.Mul64(elems, size)
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		if hi != 0 || begin > end || end > uint64(len(body)) || end-begin != want {
			return nil, fmt.Errorf("%s: tensor %q: data_offsets [%d, %d) do not hold %v %v within the %d data bytes", name, key, begin, end, e.DType, e.Shape, len(body))
		}
		out = append(out, stTensor{Name: key, DType: e.DType, Shape: e.Shape, Data: body[begin:end:end], File: name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
