//go:build !purego

#include "textflag.h"

// Row-looping forms of the float kernels in kernels_amd64.s: each row's
// operations are exactly those of dotF32AVX2 (or the F16/BF16 forms, or
// their four-column forms), so the results are bitwise the same; looping
// in assembly saves a call per row on small matrices.

// Loads 8 weights at off(SI) as float32 into y.
#define LDF32(off, y) VMOVUPS off(SI), y
#define LDF16(off, y) VCVTPH2PS off(SI), y
#define LDBF16(off, y) \
	VPMOVZXWD off(SI), y \
	VPSLLD    $16, y, y

// Horizontal sum of the 8 lanes of y into x[0] (clobbers X15).
#define HSUM(y, x) \
	VEXTRACTF128 $1, y, X15 \
	VADDPS       X15, x, x \
	VPERMILPS    $0x4E, x, X15 \
	VADDPS       X15, x, x \
	VPERMILPS    $0xB1, x, X15 \
	VADDPS       X15, x, x

// func dotF32RowsAVX2(w *float32, rstride int, nrows int, x *float32, n int, out *float32)
// out[r] = dotF32AVX2(w + r·rstride bytes, x, n) for r < nrows; n a
// positive multiple of 8, nrows ≥ 1.
TEXT ·dotF32RowsAVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R8
	MOVQ rstride+8(FP), R9
	MOVQ nrows+16(FP), R10
	MOVQ x+24(FP), DI
	MOVQ out+40(FP), R11

f32r1row:
	MOVQ   R8, SI
	MOVQ   DI, BX
	MOVQ   n+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

f32r1loop16:
	CMPQ        CX, $16
	JLT         f32r1loop8
	LDF32(0, Y4)
	LDF32(32, Y5)
	VFMADD231PS (BX), Y4, Y0
	VFMADD231PS 32(BX), Y5, Y1
	ADDQ        $64, SI
	ADDQ        $64, BX
	SUBQ        $16, CX
	JMP         f32r1loop16

f32r1loop8:
	CMPQ        CX, $8
	JLT         f32r1done
	LDF32(0, Y4)
	VFMADD231PS (BX), Y4, Y0

f32r1done:
	VADDPS Y1, Y0, Y0
	HSUM(Y0, X0)
	MOVSS  X0, (R11)
	ADDQ   $4, R11
	ADDQ   R9, R8
	DECQ   R10
	JNZ    f32r1row
	VZEROUPPER
	RET

// func dotF32x4RowsAVX2(w *float32, rstride int, nrows int, x *float32, xstride int, n int, out *float32, ostride int)
// dotF32x4AVX2 for nrows rows (w + r·rstride bytes), row r's four
// results going to out[r + c·ostride].
TEXT ·dotF32x4RowsAVX2(SB), NOSPLIT, $0-64
	MOVQ w+0(FP), R13
	MOVQ nrows+16(FP), R14
	MOVQ x+24(FP), DX
	MOVQ xstride+32(FP), AX
	SHLQ $2, AX
	MOVQ out+48(FP), R11
	MOVQ ostride+56(FP), R12
	SHLQ $2, R12

f32r4row:
	MOVQ   R13, SI
	MOVQ   DX, DI
	LEAQ   (DI)(AX*1), R8
	LEAQ   (R8)(AX*1), R9
	LEAQ   (R9)(AX*1), R10
	MOVQ   n+40(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9

f32r4loop16:
	CMPQ        CX, $16
	JLT         f32r4loop8
	LDF32(0, Y4)
	LDF32(32, Y5)
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS (R8), Y4, Y2
	VFMADD231PS 32(R8), Y5, Y3
	VFMADD231PS (R9), Y4, Y6
	VFMADD231PS 32(R9), Y5, Y7
	VFMADD231PS (R10), Y4, Y8
	VFMADD231PS 32(R10), Y5, Y9
	ADDQ        $64, SI
	ADDQ        $64, DI
	ADDQ        $64, R8
	ADDQ        $64, R9
	ADDQ        $64, R10
	SUBQ        $16, CX
	JMP         f32r4loop16

f32r4loop8:
	CMPQ        CX, $8
	JLT         f32r4done
	LDF32(0, Y4)
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS (R8), Y4, Y2
	VFMADD231PS (R9), Y4, Y6
	VFMADD231PS (R10), Y4, Y8

f32r4done:
	MOVQ   R11, BX
	VADDPS Y1, Y0, Y0
	HSUM(Y0, X0)
	MOVSS  X0, (BX)
	ADDQ   R12, BX
	VADDPS Y3, Y2, Y2
	HSUM(Y2, X2)
	MOVSS  X2, (BX)
	ADDQ   R12, BX
	VADDPS Y7, Y6, Y6
	HSUM(Y6, X6)
	MOVSS  X6, (BX)
	ADDQ   R12, BX
	VADDPS Y9, Y8, Y8
	HSUM(Y8, X8)
	MOVSS  X8, (BX)
	ADDQ   $4, R11
	ADDQ   rstride+8(FP), R13
	DECQ   R14
	JNZ    f32r4row
	VZEROUPPER
	RET

// func dotF16RowsAVX2(w *byte, rstride int, nrows int, x *float32, n int, out *float32)
// out[r] = dotF16AVX2(w + r·rstride bytes, x, n) for r < nrows; n a
// positive multiple of 8, nrows ≥ 1.
TEXT ·dotF16RowsAVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R8
	MOVQ rstride+8(FP), R9
	MOVQ nrows+16(FP), R10
	MOVQ x+24(FP), DI
	MOVQ out+40(FP), R11

f16r1row:
	MOVQ   R8, SI
	MOVQ   DI, BX
	MOVQ   n+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

f16r1loop16:
	CMPQ        CX, $16
	JLT         f16r1loop8
	LDF16(0, Y4)
	LDF16(16, Y5)
	VFMADD231PS (BX), Y4, Y0
	VFMADD231PS 32(BX), Y5, Y1
	ADDQ        $32, SI
	ADDQ        $64, BX
	SUBQ        $16, CX
	JMP         f16r1loop16

f16r1loop8:
	CMPQ        CX, $8
	JLT         f16r1done
	LDF16(0, Y4)
	VFMADD231PS (BX), Y4, Y0

f16r1done:
	VADDPS Y1, Y0, Y0
	HSUM(Y0, X0)
	MOVSS  X0, (R11)
	ADDQ   $4, R11
	ADDQ   R9, R8
	DECQ   R10
	JNZ    f16r1row
	VZEROUPPER
	RET

// func dotF16x4RowsAVX2(w *byte, rstride int, nrows int, x *float32, xstride int, n int, out *float32, ostride int)
// dotF16x4AVX2 for nrows rows (w + r·rstride bytes), row r's four
// results going to out[r + c·ostride].
TEXT ·dotF16x4RowsAVX2(SB), NOSPLIT, $0-64
	MOVQ w+0(FP), R13
	MOVQ nrows+16(FP), R14
	MOVQ x+24(FP), DX
	MOVQ xstride+32(FP), AX
	SHLQ $2, AX
	MOVQ out+48(FP), R11
	MOVQ ostride+56(FP), R12
	SHLQ $2, R12

f16r4row:
	MOVQ   R13, SI
	MOVQ   DX, DI
	LEAQ   (DI)(AX*1), R8
	LEAQ   (R8)(AX*1), R9
	LEAQ   (R9)(AX*1), R10
	MOVQ   n+40(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9

f16r4loop16:
	CMPQ        CX, $16
	JLT         f16r4loop8
	LDF16(0, Y4)
	LDF16(16, Y5)
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS (R8), Y4, Y2
	VFMADD231PS 32(R8), Y5, Y3
	VFMADD231PS (R9), Y4, Y6
	VFMADD231PS 32(R9), Y5, Y7
	VFMADD231PS (R10), Y4, Y8
	VFMADD231PS 32(R10), Y5, Y9
	ADDQ        $32, SI
	ADDQ        $64, DI
	ADDQ        $64, R8
	ADDQ        $64, R9
	ADDQ        $64, R10
	SUBQ        $16, CX
	JMP         f16r4loop16

f16r4loop8:
	CMPQ        CX, $8
	JLT         f16r4done
	LDF16(0, Y4)
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS (R8), Y4, Y2
	VFMADD231PS (R9), Y4, Y6
	VFMADD231PS (R10), Y4, Y8

f16r4done:
	MOVQ   R11, BX
	VADDPS Y1, Y0, Y0
	HSUM(Y0, X0)
	MOVSS  X0, (BX)
	ADDQ   R12, BX
	VADDPS Y3, Y2, Y2
	HSUM(Y2, X2)
	MOVSS  X2, (BX)
	ADDQ   R12, BX
	VADDPS Y7, Y6, Y6
	HSUM(Y6, X6)
	MOVSS  X6, (BX)
	ADDQ   R12, BX
	VADDPS Y9, Y8, Y8
	HSUM(Y8, X8)
	MOVSS  X8, (BX)
	ADDQ   $4, R11
	ADDQ   rstride+8(FP), R13
	DECQ   R14
	JNZ    f16r4row
	VZEROUPPER
	RET

// func dotBF16RowsAVX2(w *byte, rstride int, nrows int, x *float32, n int, out *float32)
// out[r] = dotBF16AVX2(w + r·rstride bytes, x, n) for r < nrows; n a
// positive multiple of 8, nrows ≥ 1.
TEXT ·dotBF16RowsAVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R8
	MOVQ rstride+8(FP), R9
	MOVQ nrows+16(FP), R10
	MOVQ x+24(FP), DI
	MOVQ out+40(FP), R11

bf16r1row:
	MOVQ   R8, SI
	MOVQ   DI, BX
	MOVQ   n+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

bf16r1loop16:
	CMPQ        CX, $16
	JLT         bf16r1loop8
	LDBF16(0, Y4)
	LDBF16(16, Y5)
	VFMADD231PS (BX), Y4, Y0
	VFMADD231PS 32(BX), Y5, Y1
	ADDQ        $32, SI
	ADDQ        $64, BX
	SUBQ        $16, CX
	JMP         bf16r1loop16

bf16r1loop8:
	CMPQ        CX, $8
	JLT         bf16r1done
	LDBF16(0, Y4)
	VFMADD231PS (BX), Y4, Y0

bf16r1done:
	VADDPS Y1, Y0, Y0
	HSUM(Y0, X0)
	MOVSS  X0, (R11)
	ADDQ   $4, R11
	ADDQ   R9, R8
	DECQ   R10
	JNZ    bf16r1row
	VZEROUPPER
	RET

// func dotBF16x4RowsAVX2(w *byte, rstride int, nrows int, x *float32, xstride int, n int, out *float32, ostride int)
// dotBF16x4AVX2 for nrows rows (w + r·rstride bytes), row r's four
// results going to out[r + c·ostride].
TEXT ·dotBF16x4RowsAVX2(SB), NOSPLIT, $0-64
	MOVQ w+0(FP), R13
	MOVQ nrows+16(FP), R14
	MOVQ x+24(FP), DX
	MOVQ xstride+32(FP), AX
	SHLQ $2, AX
	MOVQ out+48(FP), R11
	MOVQ ostride+56(FP), R12
	SHLQ $2, R12

bf16r4row:
	MOVQ   R13, SI
	MOVQ   DX, DI
	LEAQ   (DI)(AX*1), R8
	LEAQ   (R8)(AX*1), R9
	LEAQ   (R9)(AX*1), R10
	MOVQ   n+40(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9

bf16r4loop16:
	CMPQ        CX, $16
	JLT         bf16r4loop8
	LDBF16(0, Y4)
	LDBF16(16, Y5)
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS (R8), Y4, Y2
	VFMADD231PS 32(R8), Y5, Y3
	VFMADD231PS (R9), Y4, Y6
	VFMADD231PS 32(R9), Y5, Y7
	VFMADD231PS (R10), Y4, Y8
	VFMADD231PS 32(R10), Y5, Y9
	ADDQ        $32, SI
	ADDQ        $64, DI
	ADDQ        $64, R8
	ADDQ        $64, R9
	ADDQ        $64, R10
	SUBQ        $16, CX
	JMP         bf16r4loop16

bf16r4loop8:
	CMPQ        CX, $8
	JLT         bf16r4done
	LDBF16(0, Y4)
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS (R8), Y4, Y2
	VFMADD231PS (R9), Y4, Y6
	VFMADD231PS (R10), Y4, Y8

bf16r4done:
	MOVQ   R11, BX
	VADDPS Y1, Y0, Y0
	HSUM(Y0, X0)
	MOVSS  X0, (BX)
	ADDQ   R12, BX
	VADDPS Y3, Y2, Y2
	HSUM(Y2, X2)
	MOVSS  X2, (BX)
	ADDQ   R12, BX
	VADDPS Y7, Y6, Y6
	HSUM(Y6, X6)
	MOVSS  X6, (BX)
	ADDQ   R12, BX
	VADDPS Y9, Y8, Y8
	HSUM(Y8, X8)
	MOVSS  X8, (BX)
	ADDQ   $4, R11
	ADDQ   rstride+8(FP), R13
	DECQ   R14
	JNZ    bf16r4row
	VZEROUPPER
	RET
