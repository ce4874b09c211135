//go:build purego || !amd64

package tensor

// Without assembly every kernel is the portable one.
var (
	dotF32  = dotF32Go
	dotF16  = dotF16Go
	dotBF16 = dotBF16Go
	dotQ8_0 = dotQ8_0Go
	dotQ4_0 = dotQ4_0Go
	dotQ4K  = dotQ4KGo
	dotQ6K  = dotQ6KGo
)

// haveSIMD reports whether assembly kernels are in use.
const haveSIMD = false
