package tensor

import (
	"fmt"

	"github.com/baco-go/baco/engine/gguf"
)

// Block geometry of the supported ggml types (ggml-common.h).
const (
	qk8_0 = 32  // elements per Q8_0 block
	qk4_0 = 32  // elements per Q4_0 block
	qkK   = 256 // elements per K-quant super-block

	blockQ8_0Bytes = 2 + qk8_0                  // fp16 d, int8 qs[32]
	blockQ4_0Bytes = 2 + qk4_0/2                // fp16 d, nibbles qs[16]
	kScaleSize     = 12                         // packed 6-bit scales and mins of Q4_K
	blockQ4KBytes  = 2 + 2 + kScaleSize + qkK/2 // fp16 d, fp16 dmin, scales[12], qs[128]
	blockQ6KBytes  = qkK/2 + qkK/4 + qkK/16 + 2 // ql[128], qh[64], int8 scales[16], fp16 d
)

// layout gives the elements per block and bytes per block of a supported
// type, or ok=false for a type this package does not handle.
func layout(t gguf.TensorType) (blockElems, blockBytes int, ok bool) {
	switch t {
	case gguf.TypeF32:
		return 1, 4, true
	case gguf.TypeF16, gguf.TypeBF16:
		return 1, 2, true
	case gguf.TypeQ8_0:
		return qk8_0, blockQ8_0Bytes, true
	case gguf.TypeQ4_0:
		return qk4_0, blockQ4_0Bytes, true
	case gguf.TypeQ4_K:
		return qkK, blockQ4KBytes, true
	case gguf.TypeQ6_K:
		return qkK, blockQ6KBytes, true
	}
	return 0, 0, false
}

// rowBytes returns the byte size of n elements of type t, checking that t is
// supported and n is a whole number of blocks.
func rowBytes(t gguf.TensorType, n int) (int, error) {
	be, bb, ok := layout(t)
	if !ok {
		return 0, fmt.Errorf("tensor: unsupported tensor type %v", t)
	}
	if n < 0 || n%be != 0 {
		return 0, fmt.Errorf("tensor: %d elements is not a multiple of the %v block size %d", n, t, be)
	}
	return n / be * bb, nil
}
