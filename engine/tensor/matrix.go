package tensor

import (
	"fmt"
	"math"

	"github.com/baco-go/baco/engine/gguf"
)

// Matrix is a row-major weight matrix in a ggml type: Rows rows of Cols
// elements each, Data holding Rows consecutive encoded rows.
type Matrix struct {
	// Type is the ggml encoding of Data.
	Type gguf.TensorType
	// Rows is the number of rows (outputs of MatMul).
	Rows int
	// Cols is the number of elements per row (inputs of MatMul).
	Cols int
	// Data holds the encoded rows, exactly Rows*rowBytes(Type, Cols) bytes.
	Data []byte
}

// maxDim bounds each dimension so that products of dimensions and byte
// counts cannot overflow int on any platform.
const maxDim = 1 << 31

// FromTensor wraps a 1-D or 2-D GGUF tensor as a Matrix without copying:
// Cols = Dims[0] (ggml's innermost dimension) and Rows = Dims[1] (1 for a 1-D
// tensor). It checks that the type is supported, that Cols is a whole number
// of blocks and that Data has exactly the encoded size.
func FromTensor(t *gguf.TensorInfo) (*Matrix, error) {
	if t == nil {
		return nil, fmt.Errorf("tensor: nil tensor info")
	}
	if _, _, ok := layout(t.Type); !ok {
		return nil, fmt.Errorf("tensor %q: unsupported type %v", t.Name, t.Type)
	}
	if len(t.Dims) < 1 || len(t.Dims) > 2 {
		return nil, fmt.Errorf("tensor %q: %d dimensions, want 1 or 2", t.Name, len(t.Dims))
	}
	cols := t.Dims[0]
	rows := uint64(1)
	if len(t.Dims) == 2 {
		rows = t.Dims[1]
	}
	if cols == 0 || rows == 0 || cols > maxDim || rows > maxDim {
		return nil, fmt.Errorf("tensor %q: dimensions %v out of range", t.Name, t.Dims)
	}
	rb, err := rowBytes(t.Type, int(cols))
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	total := uint64(rb) * rows
	if total > math.MaxInt || uint64(len(t.Data)) != total {
		return nil, fmt.Errorf("tensor %q: %d data bytes, want %d for %v %v", t.Name, len(t.Data), total, t.Type, t.Dims)
	}
	return &Matrix{Type: t.Type, Rows: int(rows), Cols: int(cols), Data: t.Data}, nil
}

// RowBytes returns the encoded size of one row.
func (m *Matrix) RowBytes() int {
	n, _ := rowBytes(m.Type, m.Cols)
	return n
}

// RowF32 dequantises row i into out[:m.Cols]. It panics, like a slice index,
// when i is out of range or out is too short: both are programming errors of
// the caller, not properties of the model file.
func (m *Matrix) RowF32(i int, out []float32) {
	if i < 0 || i >= m.Rows {
		panic(fmt.Sprintf("tensor: row %d out of range [0,%d)", i, m.Rows))
	}
	rb := m.RowBytes()
	dequantize(m.Type, m.Data[i*rb:(i+1)*rb], out[:m.Cols])
}
