//go:build !purego

package tensor

import "golang.org/x/sys/cpu"

// haveSIMD reports whether the AVX2 assembly kernels are in use.
var haveSIMD = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C

var (
	dotF32  = dotF32Go
	dotF16  = dotF16Go
	dotBF16 = dotBF16Go
	dotQ8_0 = dotQ8_0Go
	dotQ4_0 = dotQ4_0Go
	dotQ4K  = dotQ4KGo
	dotQ6K  = dotQ6KGo
)
