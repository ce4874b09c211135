//go:build !purego

#include "textflag.h"

// Horizontal sum of the 8 float32 lanes of Y0 into X0[0] (clobbers X1).
#define HSUM_PS \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS       X1, X0, X0 \
	VPERMILPS    $0x4E, X0, X1 \
	VADDPS       X1, X0, X0 \
	VPERMILPS    $0xB1, X0, X1 \
	VADDPS       X1, X0, X0

// Horizontal sum of the 8 int32 lanes of Y0 into X0[0] (clobbers X1).
#define HSUM_D \
	VEXTRACTI128 $1, Y0, X1 \
	VPADDD       X1, X0, X0 \
	VPSHUFD      $0x4E, X0, X1 \
	VPADDD       X1, X0, X0 \
	VPSHUFD      $0xB1, X0, X1 \
	VPADDD       X1, X0, X0

// Horizontal sum of the 8 float32 lanes of y into x[0] (clobbers X1).
#define HSUM_PS_R(y, x) \
	VEXTRACTF128 $1, y, X1 \
	VADDPS       X1, x, x \
	VPERMILPS    $0x4E, x, X1 \
	VADDPS       X1, x, x \
	VPERMILPS    $0xB1, x, X1 \
	VADDPS       X1, x, x

// The float kernels: weights (F32, or F16/BF16 widened to F32) dotted with
// float32 activations, n a multiple of 8 (the caller adds the tail). Each
// column sums 16-element steps into two 8-lane accumulators (elements 0..7
// and 8..15 of each step), a final 8-element step into the first, then
// (acc0+acc1) across lanes. The four-column kernels perform exactly these
// operations per column, so batching never changes a result.

// func dotF32AVX2(a *float32, b *float32, n int) float32
TEXT ·dotF32AVX2(SB), NOSPLIT, $0-28
	MOVQ   a+0(FP), SI
	MOVQ   b+8(FP), DI
	MOVQ   n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

f32loop16:
	CMPQ        CX, $16
	JLT         f32loop8
	VMOVUPS     0(SI), Y4
	VMOVUPS     32(SI), Y5
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         f32loop16

f32loop8:
	CMPQ        CX, $8
	JLT         f32done
	VMOVUPS     0(SI), Y4
	VFMADD231PS (DI), Y4, Y0

f32done:
	VADDPS Y1, Y0, Y0
	HSUM_PS
	VZEROUPPER
	MOVSS  X0, ret+24(FP)
	RET

// func dotF32x4AVX2(w *byte, x *float32, xstride int, n int, out *float32, ostride int)
// dotF32AVX2 of one row against four columns x+c·xstride (float32s),
// writing column c's result to out[c·ostride].
TEXT ·dotF32x4AVX2(SB), NOSPLIT, $0-48
	MOVQ   w+0(FP), SI
	MOVQ   x+8(FP), DI
	MOVQ   xstride+16(FP), AX
	SHLQ   $2, AX
	LEAQ   (DI)(AX*1), R8
	LEAQ   (R8)(AX*1), R9
	LEAQ   (R9)(AX*1), R10
	MOVQ   n+24(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9

f32x4loop16:
	CMPQ        CX, $16
	JLT         f32x4loop8
	VMOVUPS     0(SI), Y4
	VMOVUPS     32(SI), Y5
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
	JMP         f32x4loop16

f32x4loop8:
	CMPQ        CX, $8
	JLT         f32x4done
	VMOVUPS     0(SI), Y4
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS (R8), Y4, Y2
	VFMADD231PS (R9), Y4, Y6
	VFMADD231PS (R10), Y4, Y8

f32x4done:
	MOVQ   out+32(FP), AX
	MOVQ   ostride+40(FP), BX
	SHLQ   $2, BX
	VADDPS Y1, Y0, Y0
	HSUM_PS_R(Y0, X0)
	MOVSS  X0, (AX)
	ADDQ   BX, AX
	VADDPS Y3, Y2, Y2
	HSUM_PS_R(Y2, X2)
	MOVSS  X2, (AX)
	ADDQ   BX, AX
	VADDPS Y7, Y6, Y6
	HSUM_PS_R(Y6, X6)
	MOVSS  X6, (AX)
	ADDQ   BX, AX
	VADDPS Y9, Y8, Y8
	HSUM_PS_R(Y8, X8)
	MOVSS  X8, (AX)
	VZEROUPPER
	RET

// func dotF16AVX2(w *byte, x *float32, n int) float32
TEXT ·dotF16AVX2(SB), NOSPLIT, $0-28
	MOVQ   w+0(FP), SI
	MOVQ   x+8(FP), DI
	MOVQ   n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

f16loop16:
	CMPQ        CX, $16
	JLT         f16loop8
	VCVTPH2PS   0(SI), Y4
	VCVTPH2PS   16(SI), Y5
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	ADDQ        $32, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         f16loop16

f16loop8:
	CMPQ        CX, $8
	JLT         f16done
	VCVTPH2PS   0(SI), Y4
	VFMADD231PS (DI), Y4, Y0

f16done:
	VADDPS Y1, Y0, Y0
	HSUM_PS
	VZEROUPPER
	MOVSS  X0, ret+24(FP)
	RET

// func dotF16x4AVX2(w *byte, x *float32, xstride int, n int, out *float32, ostride int)
// dotF16AVX2 of one row against four columns x+c·xstride (float32s),
// writing column c's result to out[c·ostride].
TEXT ·dotF16x4AVX2(SB), NOSPLIT, $0-48
	MOVQ   w+0(FP), SI
	MOVQ   x+8(FP), DI
	MOVQ   xstride+16(FP), AX
	SHLQ   $2, AX
	LEAQ   (DI)(AX*1), R8
	LEAQ   (R8)(AX*1), R9
	LEAQ   (R9)(AX*1), R10
	MOVQ   n+24(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9

f16x4loop16:
	CMPQ        CX, $16
	JLT         f16x4loop8
	VCVTPH2PS   0(SI), Y4
	VCVTPH2PS   16(SI), Y5
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
	JMP         f16x4loop16

f16x4loop8:
	CMPQ        CX, $8
	JLT         f16x4done
	VCVTPH2PS   0(SI), Y4
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS (R8), Y4, Y2
	VFMADD231PS (R9), Y4, Y6
	VFMADD231PS (R10), Y4, Y8

f16x4done:
	MOVQ   out+32(FP), AX
	MOVQ   ostride+40(FP), BX
	SHLQ   $2, BX
	VADDPS Y1, Y0, Y0
	HSUM_PS_R(Y0, X0)
	MOVSS  X0, (AX)
	ADDQ   BX, AX
	VADDPS Y3, Y2, Y2
	HSUM_PS_R(Y2, X2)
	MOVSS  X2, (AX)
	ADDQ   BX, AX
	VADDPS Y7, Y6, Y6
	HSUM_PS_R(Y6, X6)
	MOVSS  X6, (AX)
	ADDQ   BX, AX
	VADDPS Y9, Y8, Y8
	HSUM_PS_R(Y8, X8)
	MOVSS  X8, (AX)
	VZEROUPPER
	RET

// func dotBF16AVX2(w *byte, x *float32, n int) float32
TEXT ·dotBF16AVX2(SB), NOSPLIT, $0-28
	MOVQ   w+0(FP), SI
	MOVQ   x+8(FP), DI
	MOVQ   n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

bf16loop16:
	CMPQ        CX, $16
	JLT         bf16loop8
	VPMOVZXWD   0(SI), Y4
	VPSLLD      $16, Y4, Y4
	VPMOVZXWD   16(SI), Y5
	VPSLLD      $16, Y5, Y5
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	ADDQ        $32, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         bf16loop16

bf16loop8:
	CMPQ        CX, $8
	JLT         bf16done
	VPMOVZXWD   0(SI), Y4
	VPSLLD      $16, Y4, Y4
	VFMADD231PS (DI), Y4, Y0

bf16done:
	VADDPS Y1, Y0, Y0
	HSUM_PS
	VZEROUPPER
	MOVSS  X0, ret+24(FP)
	RET

// func dotBF16x4AVX2(w *byte, x *float32, xstride int, n int, out *float32, ostride int)
// dotBF16AVX2 of one row against four columns x+c·xstride (float32s),
// writing column c's result to out[c·ostride].
TEXT ·dotBF16x4AVX2(SB), NOSPLIT, $0-48
	MOVQ   w+0(FP), SI
	MOVQ   x+8(FP), DI
	MOVQ   xstride+16(FP), AX
	SHLQ   $2, AX
	LEAQ   (DI)(AX*1), R8
	LEAQ   (R8)(AX*1), R9
	LEAQ   (R9)(AX*1), R10
	MOVQ   n+24(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9

bf16x4loop16:
	CMPQ        CX, $16
	JLT         bf16x4loop8
	VPMOVZXWD   0(SI), Y4
	VPSLLD      $16, Y4, Y4
	VPMOVZXWD   16(SI), Y5
	VPSLLD      $16, Y5, Y5
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
	JMP         bf16x4loop16

bf16x4loop8:
	CMPQ        CX, $8
	JLT         bf16x4done
	VPMOVZXWD   0(SI), Y4
	VPSLLD      $16, Y4, Y4
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS (R8), Y4, Y2
	VFMADD231PS (R9), Y4, Y6
	VFMADD231PS (R10), Y4, Y8

bf16x4done:
	MOVQ   out+32(FP), AX
	MOVQ   ostride+40(FP), BX
	SHLQ   $2, BX
	VADDPS Y1, Y0, Y0
	HSUM_PS_R(Y0, X0)
	MOVSS  X0, (AX)
	ADDQ   BX, AX
	VADDPS Y3, Y2, Y2
	HSUM_PS_R(Y2, X2)
	MOVSS  X2, (AX)
	ADDQ   BX, AX
	VADDPS Y7, Y6, Y6
	HSUM_PS_R(Y6, X6)
	MOVSS  X6, (AX)
	ADDQ   BX, AX
	VADDPS Y9, Y8, Y8
	HSUM_PS_R(Y8, X8)
	MOVSS  X8, (AX)
	VZEROUPPER
	RET

// One activation column of a Q8_0/Q4_0 block: with the weight quants in Y2,
// their absolute values in Y4, the weight scale in X10 and int16 ones in
// Y15, acc += float32(Σ w·x) · (d_w·d_x) for the 32 int8 at xq and the scale
// at xd. Every kernel below runs exactly this sequence per column, so one
// column's result does not depend on how many columns share the call.
#define QCOL(xq, xd, acc) \
	VMULSS       (xd), X10, X1 \
	VBROADCASTSS X1, Y1 \
	VMOVDQU      (xq), Y3 \
	VPSIGNB      Y2, Y3, Y5 \
	VPMADDUBSW   Y5, Y4, Y6 \
	VPMADDWD     Y15, Y6, Y6 \
	VCVTDQ2PS    Y6, Y6 \
	VFMADD231PS  Y6, Y1, acc

// Loads the fp16 scale of the block at SI into X10 (float32).
#define WSCALE \
	MOVWLZX   (SI), AX \
	VMOVD     AX, X10 \
	VCVTPH2PS X10, X10

// Q8_0 weight quants of the block at SI into Y2, |w| into Y4.
#define Q8W \
	VMOVDQU 2(SI), Y2 \
	VPSIGNB Y2, Y2, Y4

// Q4_0 weight quants (nibble − 8; low nibbles first) of the block at SI into
// Y2, |w| into Y4; needs 0x0F bytes in Y14 and 8s in Y13.
#define Q4W \
	VMOVDQU     2(SI), X2 \
	VPSRLW      $4, X2, X3 \
	VINSERTI128 $1, X3, Y2, Y2 \
	VPAND       Y14, Y2, Y2 \
	VPSUBB      Y13, Y2, Y2 \
	VPSIGNB     Y2, Y2, Y4

#define ONES16 \
	VPCMPEQW Y15, Y15, Y15 \
	VPSRLW   $15, Y15, Y15

#define Q4CONST \
	MOVL         $0x0F, AX \
	VMOVD        AX, X14 \
	VPBROADCASTB X14, Y14 \
	MOVL         $8, AX \
	VMOVD        AX, X13 \
	VPBROADCASTB X13, Y13

// func dotQ8_0AVX2(w *byte, xq *int8, xd *float32, nb int) float32
// nb Q8_0 weight blocks (34 bytes: fp16 d, 32 int8) against nb activation
// blocks (32 int8 at xq, float32 scale at xd): per block the exact int32 sum
// (|w|·(sign(w)·x) by VPMADDUBSW, pairs by VPMADDWD) times d_w·d_x, summed in
// 8 lanes in block order, then across lanes.
TEXT ·dotQ8_0AVX2(SB), NOSPLIT, $0-36
	MOVQ   w+0(FP), SI
	MOVQ   xq+8(FP), DI
	MOVQ   xd+16(FP), DX
	MOVQ   nb+24(FP), CX
	VXORPS Y0, Y0, Y0
	ONES16
	TESTQ  CX, CX
	JEQ    q8done

q8loop:
	WSCALE
	Q8W
	QCOL(DI, DX, Y0)
	ADDQ $34, SI
	ADDQ $32, DI
	ADDQ $4, DX
	DECQ CX
	JNZ  q8loop

q8done:
	HSUM_PS_R(Y0, X0)
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// Sets up four activation columns from DI (first xq), AX (xstride bytes),
// DX (first xd) and BX (dstride float32s): xq pointers DI, R8, R9, R10 and
// scale pointers DX, R11, R12, R13.
#define COLS4 \
	LEAQ (DI)(AX*1), R8 \
	LEAQ (R8)(AX*1), R9 \
	LEAQ (R9)(AX*1), R10 \
	SHLQ $2, BX \
	LEAQ (DX)(BX*1), R11 \
	LEAQ (R11)(BX*1), R12 \
	LEAQ (R12)(BX*1), R13

#define ADV4(qb) \
	ADDQ qb, SI \
	ADDQ $32, DI \
	ADDQ $32, R8 \
	ADDQ $32, R9 \
	ADDQ $32, R10 \
	ADDQ $4, DX \
	ADDQ $4, R11 \
	ADDQ $4, R12 \
	ADDQ $4, R13

// Reduces the four accumulators and stores them at AX[0..3].
#define STORE4 \
	HSUM_PS_R(Y0, X0) \
	HSUM_PS_R(Y8, X8) \
	HSUM_PS_R(Y9, X9) \
	HSUM_PS_R(Y12, X12) \
	VZEROUPPER \
	MOVSS X0, (AX) \
	MOVSS X8, 4(AX) \
	MOVSS X9, 8(AX) \
	MOVSS X12, 12(AX)

// func dotQ8_0x4AVX2(w *byte, xq *int8, xstride int, xd *float32, dstride int, nb int, out *[4]float32)
// dotQ8_0AVX2 of one weight row against four activation columns, the row's
// blocks loaded once; out[c] is bitwise what dotQ8_0AVX2 gives for column c.
TEXT ·dotQ8_0x4AVX2(SB), NOSPLIT, $0-56
	MOVQ   w+0(FP), SI
	MOVQ   xq+8(FP), DI
	MOVQ   xstride+16(FP), AX
	MOVQ   xd+24(FP), DX
	MOVQ   dstride+32(FP), BX
	COLS4
	MOVQ   nb+40(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y12, Y12, Y12
	ONES16
	TESTQ  CX, CX
	JEQ    q8x4done

q8x4loop:
	WSCALE
	Q8W
	QCOL(DI, DX, Y0)
	QCOL(R8, R11, Y8)
	QCOL(R9, R12, Y9)
	QCOL(R10, R13, Y12)
	ADV4($34)
	DECQ CX
	JNZ  q8x4loop

q8x4done:
	MOVQ out+48(FP), AX
	STORE4
	RET

// func dotQ4_0AVX2(w *byte, xq *int8, xd *float32, nb int) float32
// As dotQ8_0AVX2 for Q4_0 blocks (18 bytes: fp16 d, 16 bytes of nibbles;
// low nibbles are elements 0..15, high 16..31, each minus 8).
TEXT ·dotQ4_0AVX2(SB), NOSPLIT, $0-36
	MOVQ   w+0(FP), SI
	MOVQ   xq+8(FP), DI
	MOVQ   xd+16(FP), DX
	MOVQ   nb+24(FP), CX
	VXORPS Y0, Y0, Y0
	ONES16
	Q4CONST
	TESTQ  CX, CX
	JEQ    q4done

q4loop:
	WSCALE
	Q4W
	QCOL(DI, DX, Y0)
	ADDQ $18, SI
	ADDQ $32, DI
	ADDQ $4, DX
	DECQ CX
	JNZ  q4loop

q4done:
	HSUM_PS_R(Y0, X0)
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// func dotQ4_0x4AVX2(w *byte, xq *int8, xstride int, xd *float32, dstride int, nb int, out *[4]float32)
// dotQ4_0AVX2 against four activation columns (see dotQ8_0x4AVX2).
TEXT ·dotQ4_0x4AVX2(SB), NOSPLIT, $0-56
	MOVQ   w+0(FP), SI
	MOVQ   xq+8(FP), DI
	MOVQ   xstride+16(FP), AX
	MOVQ   xd+24(FP), DX
	MOVQ   dstride+32(FP), BX
	COLS4
	MOVQ   nb+40(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y12, Y12, Y12
	ONES16
	Q4CONST
	TESTQ  CX, CX
	JEQ    q4x4done

q4x4loop:
	WSCALE
	Q4W
	QCOL(DI, DX, Y0)
	QCOL(R8, R11, Y8)
	QCOL(R9, R12, Y9)
	QCOL(R10, R13, Y12)
	ADV4($18)
	DECQ CX
	JNZ  q4x4loop

q4x4done:
	MOVQ out+48(FP), AX
	STORE4
	RET

// Loads the fp16 at off(SI) as float32 times the float32 at (DX) into x.
#define FP16XD(off, x) \
	MOVWLZX   off(SI), AX \
	VMOVD     AX, x \
	VCVTPH2PS x, x \
	VMULSS    (DX), x, x

// func dotQ4KAVX2(w *byte, xq *int8, xd *float32, bsums *int16, nb int) float32
// nb Q4_K super-blocks (144 bytes: fp16 d, fp16 dmin, 12 bytes of packed
// 6-bit scales and mins, 128 bytes of nibbles) against Q8_K activations
// (256 int8, one float32 scale, 16 int16 sums of 16 per super-block). Per
// super-block the exact integers sumq = Σ_j sc_j·Σ q4·q8 and
// summ = Σ_j m_j·Σ q8 are combined in scalar float32 as
// sum += (d·d_x)·sumq − (dmin·d_x)·summ, the same operations in the same
// order as dotQ4KGo, so the two are bitwise equal.
TEXT ·dotQ4KAVX2(SB), NOSPLIT, $0-44
	MOVQ   w+0(FP), SI
	MOVQ   xq+8(FP), DI
	MOVQ   xd+16(FP), DX
	MOVQ   bsums+24(FP), BX
	MOVQ   nb+32(FP), CX
	VXORPS X0, X0, X0
	MOVL   $0x0F, AX
	VMOVD  AX, X14
	VPBROADCASTB X14, Y14        // 0x0F bytes
	TESTQ  CX, CX
	JEQ    q4kdone

q4kblock:
	FP16XD(0, X10)               // d·d_x
	FP16XD(2, X11)               // dmin·d_x

	// Unpack the 6-bit scales and mins (ggml's kmask trick):
	// scales = u0&k1 | ((u2&k2) | ((u0>>6)&k3)<<4) << 32,
	// mins   = u1&k1 | (((u2>>4)&k2) | ((u1>>6)&k3)<<4) << 32.
	MOVL  4(SI), R8              // u0
	MOVL  8(SI), R9              // u1
	MOVL  12(SI), R10            // u2
	MOVL  R10, R11
	ANDL  $0x0f0f0f0f, R11
	MOVL  R8, R12
	SHRL  $6, R12
	ANDL  $0x03030303, R12
	SHLL  $4, R12
	ORL   R12, R11               // scales 4..7
	ANDL  $0x3f3f3f3f, R8        // scales 0..3
	SHLQ  $32, R11
	ORQ   R11, R8
	VMOVQ R8, X12
	VPMOVZXBW X12, X12           // 8 int16 scales
	SHRL  $4, R10
	ANDL  $0x0f0f0f0f, R10
	MOVL  R9, R12
	SHRL  $6, R12
	ANDL  $0x03030303, R12
	SHLL  $4, R12
	ORL   R12, R10               // mins 4..7
	ANDL  $0x3f3f3f3f, R9        // mins 0..3
	SHLQ  $32, R10
	ORQ   R10, R9
	VMOVQ R9, X13
	VPMOVZXBW X13, X13           // 8 int16 mins

	// summ = Σ_j m_j·(bsum[2j] + bsum[2j+1])
	VMOVDQU (BX), X5
	VMOVDQU 16(BX), X6
	VPHADDW X6, X5, X5
	VPMADDWD X13, X5, X5
	VPSHUFD $0x4E, X5, X6
	VPADDD  X6, X5, X5
	VPSHUFD $0xB1, X5, X6
	VPADDD  X6, X5, X5
	VMOVD   X5, R13

	// sumq = Σ_j sc_j·Σ_{32} q4·q8
	VINSERTI128 $1, X12, Y12, Y12
	VPXOR   Y7, Y7, Y7
	LEAQ    16(SI), R8           // quants
	LEAQ    k4shuf<>(SB), R9
	MOVQ    $4, R10

q4kpair:
	VMOVDQU    (R8), Y1
	VPAND      Y14, Y1, Y2
	VPSRLW     $4, Y1, Y3
	VPAND      Y14, Y3, Y3
	VPMADDUBSW (DI), Y2, Y2
	VPMADDUBSW 32(DI), Y3, Y3
	VPSHUFB    (R9), Y12, Y4
	VPSHUFB    32(R9), Y12, Y5
	VPMADDWD   Y4, Y2, Y2
	VPMADDWD   Y5, Y3, Y3
	VPADDD     Y2, Y7, Y7
	VPADDD     Y3, Y7, Y7
	ADDQ       $32, R8
	ADDQ       $64, DI
	ADDQ       $64, R9
	DECQ       R10
	JNZ        q4kpair

	VEXTRACTI128 $1, Y7, X1
	VPADDD       X1, X7, X7
	VPSHUFD      $0x4E, X7, X1
	VPADDD       X1, X7, X7
	VPSHUFD      $0xB1, X7, X1
	VPADDD       X1, X7, X7
	VMOVD        X7, AX

	VCVTSI2SSL AX, X1, X1
	VMULSS     X1, X10, X1       // (d·d_x)·sumq
	VCVTSI2SSL R13, X2, X2
	VMULSS     X2, X11, X2       // (dmin·d_x)·summ
	VSUBSS     X2, X1, X1
	VADDSS     X1, X0, X0

	ADDQ $144, SI
	ADDQ $4, DX
	ADDQ $32, BX
	DECQ CX
	JNZ  q4kblock

q4kdone:
	VZEROUPPER
	MOVSS X0, ret+40(FP)
	RET

// Horizontal integer sums of four accumulators a, b, c, d (Y) into the four
// int32 lanes of xa (clobbers X1, X2 and the X halves of b, c, d).
#define HSUM4_D(a, b, c, d, xa, xb, xc, xd) \
	VEXTRACTI128 $1, a, X1 \
	VPADDD       X1, xa, xa \
	VEXTRACTI128 $1, b, X1 \
	VPADDD       X1, xb, xb \
	VEXTRACTI128 $1, c, X1 \
	VPADDD       X1, xc, xc \
	VEXTRACTI128 $1, d, X1 \
	VPADDD       X1, xd, xd \
	VPHADDD      xb, xa, xa \
	VPHADDD      xd, xc, xc \
	VPHADDD      xc, xa, xa

// One 64-element pair k of a Q4_K super-block for four columns: nibbles at
// 16+32k(SI), scales j=2k, 2k+1 from Y12 via k4shuf, activations at
// 64k(col), accumulating into Y6..Y9.
#define Q4KPAIR4(k) \
	VMOVDQU    (16+32*k)(SI), Y1 \
	VPAND      Y14, Y1, Y2 \
	VPSRLW     $4, Y1, Y3 \
	VPAND      Y14, Y3, Y3 \
	VPSHUFB    k4shuf<>+(64*k)(SB), Y12, Y4 \
	VPSHUFB    k4shuf<>+(64*k+32)(SB), Y12, Y5 \
	Q4KCOL(DI, k, Y6) \
	Q4KCOL(R8, k, Y7) \
	Q4KCOL(R9, k, Y8) \
	Q4KCOL(R10, k, Y9)

#define Q4KCOL(col, k, acc) \
	VPMADDUBSW (64*k)(col), Y2, Y1 \
	VPMADDWD   Y4, Y1, Y1 \
	VPADDD     Y1, acc, acc \
	VPMADDUBSW (64*k+32)(col), Y3, Y1 \
	VPMADDWD   Y5, Y1, Y1 \
	VPADDD     Y1, acc, acc

// Σ_j m_j·(bsum[2j]+bsum[2j+1]) of the bsums at (AX) into the four int32
// lanes of x (mins in X13).
#define Q4KMINS(x) \
	VMOVDQU  (AX), x \
	VMOVDQU  16(AX), X1 \
	VPHADDW  X1, x, x \
	VPMADDWD X13, x, x

// func dotQ4Kx4AVX2(w *byte, xq *int8, xstride int, xd *float32, dstride int, bsums *int16, nb int, out *[4]float32)
// dotQ4KAVX2 for four activation columns (column c at xq+c·xstride,
// xd+c·dstride, bsums+c·xstride/16), the super-block unpacked once. The four
// columns are combined lane-wise with packed float32 operations that round
// exactly like dotQ4KAVX2's scalar ones, so out[c] is bitwise what
// dotQ4KAVX2 gives for column c.
TEXT ·dotQ4Kx4AVX2(SB), NOSPLIT, $0-64
	MOVQ   w+0(FP), SI
	MOVQ   xq+8(FP), DI
	MOVQ   xstride+16(FP), AX
	LEAQ   (DI)(AX*1), R8
	LEAQ   (R8)(AX*1), R9
	LEAQ   (R9)(AX*1), R10
	MOVQ   AX, R13
	SHRQ   $3, R13               // bsums stride in bytes: xstride/16 int16
	MOVQ   xd+24(FP), DX
	MOVQ   dstride+32(FP), R11
	SHLQ   $2, R11               // xd stride in bytes
	MOVQ   bsums+40(FP), BX
	MOVQ   nb+48(FP), CX
	VXORPS X0, X0, X0
	MOVL   $0x0F, AX
	VMOVD  AX, X14
	VPBROADCASTB X14, Y14
	TESTQ  CX, CX
	JEQ    q4kx4done

q4kx4block:
	// scales (Y12, both lanes) and mins (X13) as in dotQ4KAVX2
	MOVL  4(SI), R12
	MOVL  12(SI), AX
	ANDL  $0x0f0f0f0f, AX
	SHRL  $6, R12
	ANDL  $0x03030303, R12
	SHLL  $4, R12
	ORL   R12, AX
	SHLQ  $32, AX
	MOVL  4(SI), R12
	ANDL  $0x3f3f3f3f, R12
	ORQ   R12, AX
	VMOVQ AX, X12
	VPMOVZXBW X12, X12
	VINSERTI128 $1, X12, Y12, Y12
	MOVL  12(SI), AX
	SHRL  $4, AX
	ANDL  $0x0f0f0f0f, AX
	MOVL  8(SI), R12
	SHRL  $6, R12
	ANDL  $0x03030303, R12
	SHLL  $4, R12
	ORL   R12, AX
	SHLQ  $32, AX
	MOVL  8(SI), R12
	ANDL  $0x3f3f3f3f, R12
	ORQ   R12, AX
	VMOVQ AX, X13
	VPMOVZXBW X13, X13

	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	VPXOR Y8, Y8, Y8
	VPXOR Y9, Y9, Y9
	Q4KPAIR4(0)
	Q4KPAIR4(1)
	Q4KPAIR4(2)
	Q4KPAIR4(3)
	HSUM4_D(Y6, Y7, Y8, Y9, X6, X7, X8, X9)   // X6 = sumq of columns 0..3

	MOVQ  BX, AX
	Q4KMINS(X2)
	ADDQ  R13, AX
	Q4KMINS(X3)
	ADDQ  R13, AX
	Q4KMINS(X4)
	ADDQ  R13, AX
	Q4KMINS(X5)
	VPHADDD X3, X2, X2
	VPHADDD X5, X4, X4
	VPHADDD X4, X2, X2                         // X2 = summ of columns 0..3

	// d_x of the four columns into X3
	VMOVSS   (DX), X3
	VINSERTPS $0x10, (DX)(R11*1), X3, X3
	VINSERTPS $0x20, (DX)(R11*2), X3, X3
	LEAQ     (DX)(R11*2), AX
	VINSERTPS $0x30, (AX)(R11*1), X3, X3

	MOVWLZX   (SI), AX
	VMOVD     AX, X10
	VCVTPH2PS X10, X10
	VBROADCASTSS X10, X10
	VMULPS    X3, X10, X10                     // d·d_x
	MOVWLZX   2(SI), AX
	VMOVD     AX, X11
	VCVTPH2PS X11, X11
	VBROADCASTSS X11, X11
	VMULPS    X3, X11, X11                     // dmin·d_x

	VCVTDQ2PS X6, X6
	VMULPS    X6, X10, X6
	VCVTDQ2PS X2, X2
	VMULPS    X2, X11, X2
	VSUBPS    X2, X6, X6
	VADDPS    X6, X0, X0

	ADDQ $144, SI
	ADDQ $256, DI
	ADDQ $256, R8
	ADDQ $256, R9
	ADDQ $256, R10
	ADDQ $4, DX
	ADDQ $32, BX
	DECQ CX
	JNZ  q4kx4block

q4kx4done:
	VZEROUPPER
	MOVQ    out+56(FP), AX
	VMOVUPS X0, (AX)
	RET

// func dotQ6KAVX2(w *byte, xq *int8, xd *float32, bsums *int16, nb int) float32
// nb Q6_K super-blocks (210 bytes: ql[128], qh[64], int8 scales[16], fp16 d)
// against Q8_K activations. Per super-block the exact integer
// isum = Σ_g sc_g·Σ q6u·q8 − 32·Σ_g sc_g·bsum_g (q6u the unsigned 6-bit
// quants, so Σ_g sc_g·Σ (q6u−32)·q8) is combined in scalar float32 as
// sum += (d·d_x)·isum, bitwise as dotQ6KGo.
TEXT ·dotQ6KAVX2(SB), NOSPLIT, $0-44
	MOVQ   w+0(FP), SI
	MOVQ   xq+8(FP), DI
	MOVQ   xd+16(FP), DX
	MOVQ   bsums+24(FP), BX
	MOVQ   nb+32(FP), CX
	VXORPS X0, X0, X0
	MOVL   $0x0F, AX
	VMOVD  AX, X14
	VPBROADCASTB X14, Y14        // 0x0F bytes
	MOVL   $0x03, AX
	VMOVD  AX, X13
	VPBROADCASTB X13, Y13        // 0x03 bytes
	TESTQ  CX, CX
	JEQ    q6kdone

q6kblock:
	FP16XD(208, X10)             // d·d_x

	// off = Σ_g sc_g·bsum_g
	VPMOVSXBW 192(SI), Y5
	VPMADDWD  (BX), Y5, Y5
	VEXTRACTI128 $1, Y5, X6
	VPADDD    X6, X5, X5
	VPSHUFD   $0x4E, X5, X6
	VPADDD    X6, X5, X5
	VPSHUFD   $0xB1, X5, X6
	VPADDD    X6, X5, X5
	VMOVD     X5, R13

	MOVQ    SI, R8               // ql
	LEAQ    128(SI), R9          // qh
	LEAQ    192(SI), R10         // scales
	VPXOR   Y15, Y15, Y15        // integer accumulator
	MOVQ    $2, R11

q6khalf:
	VPMOVSXBW   (R10), X11
	VINSERTI128 $1, X11, Y11, Y11   // 8 int16 scales of this half, both lanes
	VMOVDQU     (R8), Y1            // ql[0..31]
	VMOVDQU     32(R8), Y2          // ql[32..63]
	VMOVDQU     (R9), Y3            // qh[0..31]

	// q1 = ql&15 | (qh&3)<<4
	VPAND       Y14, Y1, Y4
	VPAND       Y13, Y3, Y5
	VPSLLW      $4, Y5, Y5
	VPOR        Y5, Y4, Y4
	// q2 = ql[32:]&15 | ((qh>>2)&3)<<4
	VPAND       Y14, Y2, Y6
	VPSRLW      $2, Y3, Y5
	VPAND       Y13, Y5, Y5
	VPSLLW      $4, Y5, Y5
	VPOR        Y5, Y6, Y6
	// q3 = ql>>4 | ((qh>>4)&3)<<4
	VPSRLW      $4, Y1, Y7
	VPAND       Y14, Y7, Y7
	VPSRLW      $4, Y3, Y5
	VPAND       Y13, Y5, Y5
	VPSLLW      $4, Y5, Y5
	VPOR        Y5, Y7, Y7
	// q4 = ql[32:]>>4 | ((qh>>6)&3)<<4
	VPSRLW      $4, Y2, Y8
	VPAND       Y14, Y8, Y8
	VPSRLW      $6, Y3, Y5
	VPAND       Y13, Y5, Y5
	VPSLLW      $4, Y5, Y5
	VPOR        Y5, Y8, Y8

	VPMADDUBSW  (DI), Y4, Y4
	VPMADDUBSW  32(DI), Y6, Y6
	VPMADDUBSW  64(DI), Y7, Y7
	VPMADDUBSW  96(DI), Y8, Y8

	VPSHUFB     q6shuf<>+0(SB), Y11, Y9
	VPMADDWD    Y9, Y4, Y4
	VPSHUFB     q6shuf<>+32(SB), Y11, Y9
	VPMADDWD    Y9, Y6, Y6
	VPSHUFB     q6shuf<>+64(SB), Y11, Y9
	VPMADDWD    Y9, Y7, Y7
	VPSHUFB     q6shuf<>+96(SB), Y11, Y9
	VPMADDWD    Y9, Y8, Y8
	VPADDD      Y4, Y15, Y15
	VPADDD      Y6, Y15, Y15
	VPADDD      Y7, Y15, Y15
	VPADDD      Y8, Y15, Y15

	ADDQ        $64, R8
	ADDQ        $32, R9
	ADDQ        $8, R10
	ADDQ        $128, DI
	DECQ        R11
	JNZ         q6khalf

	VEXTRACTI128 $1, Y15, X1
	VPADDD       X1, X15, X15
	VPSHUFD      $0x4E, X15, X1
	VPADDD       X1, X15, X15
	VPSHUFD      $0xB1, X15, X1
	VPADDD       X1, X15, X15
	VMOVD        X15, AX
	SHLL         $5, R13
	SUBL         R13, AX          // isum

	VCVTSI2SSL AX, X1, X1
	VMULSS     X1, X10, X1        // (d·d_x)·isum
	VADDSS     X1, X0, X0

	ADDQ $210, SI
	ADDQ $4, DX
	ADDQ $32, BX
	DECQ CX
	JNZ  q6kblock

q6kdone:
	VZEROUPPER
	MOVSS X0, ret+40(FP)
	RET

// One column of quarter k of a Q6_K half for dotQ6Kx4AVX2: q (unsigned
// quants) times the 32 activations at off(col), scaled by Y9, into acc.
#define Q6KCOL(q, off, col, acc) \
	VPMADDUBSW off(col), q, Y10 \
	VPMADDWD   Y9, Y10, Y10 \
	VPADDD     Y10, acc, acc

#define Q6KQUARTER(q, k, h) \
	VPSHUFB q6shuf<>+(32*k)(SB), Y11, Y9 \
	Q6KCOL(q, (128*h+32*k), DI, Y0) \
	Q6KCOL(q, (128*h+32*k), R8, Y3) \
	Q6KCOL(q, (128*h+32*k), R9, Y12) \
	Q6KCOL(q, (128*h+32*k), R10, Y15)

// Half h (128 elements) of a Q6_K super-block at SI for four columns.
#define Q6KHALF4(h) \
	VPMOVSXBW   (192+8*h)(SI), X11 \
	VINSERTI128 $1, X11, Y11, Y11 \
	VMOVDQU     (64*h)(SI), Y1 \
	VMOVDQU     (64*h+32)(SI), Y2 \
	VMOVDQU     (128+32*h)(SI), Y5 \
	VPAND       Y14, Y1, Y4 \
	VPAND       Y13, Y5, Y10 \
	VPSLLW      $4, Y10, Y10 \
	VPOR        Y10, Y4, Y4 \
	VPAND       Y14, Y2, Y6 \
	VPSRLW      $2, Y5, Y10 \
	VPAND       Y13, Y10, Y10 \
	VPSLLW      $4, Y10, Y10 \
	VPOR        Y10, Y6, Y6 \
	VPSRLW      $4, Y1, Y7 \
	VPAND       Y14, Y7, Y7 \
	VPSRLW      $4, Y5, Y10 \
	VPAND       Y13, Y10, Y10 \
	VPSLLW      $4, Y10, Y10 \
	VPOR        Y10, Y7, Y7 \
	VPSRLW      $4, Y2, Y8 \
	VPAND       Y14, Y8, Y8 \
	VPSRLW      $6, Y5, Y10 \
	VPAND       Y13, Y10, Y10 \
	VPSLLW      $4, Y10, Y10 \
	VPOR        Y10, Y8, Y8 \
	Q6KQUARTER(Y4, 0, h) \
	Q6KQUARTER(Y6, 1, h) \
	Q6KQUARTER(Y7, 2, h) \
	Q6KQUARTER(Y8, 3, h)

// func dotQ6Kx4AVX2(w *byte, xq *int8, xstride int, xd *float32, dstride int, bsums *int16, nb int, out *[4]float32)
// dotQ6KAVX2 for four activation columns (layout as dotQ4Kx4AVX2), the
// super-block unpacked once; the float32 sums live in out and are combined
// lane-wise exactly as dotQ6KAVX2 does, so out[c] is bitwise its result.
TEXT ·dotQ6Kx4AVX2(SB), NOSPLIT, $0-64
	MOVQ   w+0(FP), SI
	MOVQ   xq+8(FP), DI
	MOVQ   xstride+16(FP), AX
	LEAQ   (DI)(AX*1), R8
	LEAQ   (R8)(AX*1), R9
	LEAQ   (R9)(AX*1), R10
	MOVQ   AX, R13
	SHRQ   $3, R13               // bsums stride in bytes
	MOVQ   xd+24(FP), DX
	MOVQ   dstride+32(FP), R11
	SHLQ   $2, R11               // xd stride in bytes
	MOVQ   bsums+40(FP), BX
	MOVQ   nb+48(FP), CX
	MOVQ   out+56(FP), R12
	VXORPS X1, X1, X1
	VMOVUPS X1, (R12)
	MOVL   $0x0F, AX
	VMOVD  AX, X14
	VPBROADCASTB X14, Y14        // 0x0F bytes
	MOVL   $0x03, AX
	VMOVD  AX, X13
	VPBROADCASTB X13, Y13        // 0x03 bytes
	TESTQ  CX, CX
	JEQ    q6kx4done

q6kx4block:
	VPXOR Y0, Y0, Y0
	VPXOR Y3, Y3, Y3
	VPXOR Y12, Y12, Y12
	VPXOR Y15, Y15, Y15
	Q6KHALF4(0)
	Q6KHALF4(1)
	HSUM4_D(Y0, Y3, Y12, Y15, X0, X3, X12, X15)   // X0 = raw sums of columns 0..3

	// off = Σ_g sc_g·bsum_g per column, into X4
	VPMOVSXBW 192(SI), Y5
	MOVQ      BX, AX
	VPMADDWD  (AX), Y5, Y4
	ADDQ      R13, AX
	VPMADDWD  (AX), Y5, Y6
	ADDQ      R13, AX
	VPMADDWD  (AX), Y5, Y7
	ADDQ      R13, AX
	VPMADDWD  (AX), Y5, Y8
	HSUM4_D(Y4, Y6, Y7, Y8, X4, X6, X7, X8)
	VPSLLD    $5, X4, X4
	VPSUBD    X4, X0, X0                          // isum

	// d_x of the four columns into X3
	VMOVSS    (DX), X3
	VINSERTPS $0x10, (DX)(R11*1), X3, X3
	VINSERTPS $0x20, (DX)(R11*2), X3, X3
	LEAQ      (DX)(R11*2), AX
	VINSERTPS $0x30, (AX)(R11*1), X3, X3
	MOVWLZX   208(SI), AX
	VMOVD     AX, X10
	VCVTPH2PS X10, X10
	VBROADCASTSS X10, X10
	VMULPS    X3, X10, X10                        // d·d_x

	VCVTDQ2PS X0, X0
	VMULPS    X0, X10, X0
	VMOVUPS   (R12), X1
	VADDPS    X0, X1, X1
	VMOVUPS   X1, (R12)

	ADDQ $210, SI
	ADDQ $256, DI
	ADDQ $256, R8
	ADDQ $256, R9
	ADDQ $256, R10
	ADDQ $4, DX
	ADDQ $32, BX
	DECQ CX
	JNZ  q6kx4block

q6kx4done:
	VZEROUPPER
	RET

// VPSHUFB controls broadcasting int16 scale j of a Q4_K super-block over a
// whole register, for j = 0..7 (32 bytes each).
DATA k4shuf<>+0(SB)/8, $0x0100010001000100
DATA k4shuf<>+8(SB)/8, $0x0100010001000100
DATA k4shuf<>+16(SB)/8, $0x0100010001000100
DATA k4shuf<>+24(SB)/8, $0x0100010001000100
DATA k4shuf<>+32(SB)/8, $0x0302030203020302
DATA k4shuf<>+40(SB)/8, $0x0302030203020302
DATA k4shuf<>+48(SB)/8, $0x0302030203020302
DATA k4shuf<>+56(SB)/8, $0x0302030203020302
DATA k4shuf<>+64(SB)/8, $0x0504050405040504
DATA k4shuf<>+72(SB)/8, $0x0504050405040504
DATA k4shuf<>+80(SB)/8, $0x0504050405040504
DATA k4shuf<>+88(SB)/8, $0x0504050405040504
DATA k4shuf<>+96(SB)/8, $0x0706070607060706
DATA k4shuf<>+104(SB)/8, $0x0706070607060706
DATA k4shuf<>+112(SB)/8, $0x0706070607060706
DATA k4shuf<>+120(SB)/8, $0x0706070607060706
DATA k4shuf<>+128(SB)/8, $0x0908090809080908
DATA k4shuf<>+136(SB)/8, $0x0908090809080908
DATA k4shuf<>+144(SB)/8, $0x0908090809080908
DATA k4shuf<>+152(SB)/8, $0x0908090809080908
DATA k4shuf<>+160(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA k4shuf<>+168(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA k4shuf<>+176(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA k4shuf<>+184(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA k4shuf<>+192(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA k4shuf<>+200(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA k4shuf<>+208(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA k4shuf<>+216(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA k4shuf<>+224(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA k4shuf<>+232(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA k4shuf<>+240(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA k4shuf<>+248(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL k4shuf<>(SB), RODATA|NOPTR, $256

// VPSHUFB controls spreading int16 scale 2k over the low 128-bit lane and
// scale 2k+1 over the high lane, for k = 0..3.
DATA q6shuf<>+0(SB)/8, $0x0100010001000100
DATA q6shuf<>+8(SB)/8, $0x0100010001000100
DATA q6shuf<>+16(SB)/8, $0x0302030203020302
DATA q6shuf<>+24(SB)/8, $0x0302030203020302
DATA q6shuf<>+32(SB)/8, $0x0504050405040504
DATA q6shuf<>+40(SB)/8, $0x0504050405040504
DATA q6shuf<>+48(SB)/8, $0x0706070607060706
DATA q6shuf<>+56(SB)/8, $0x0706070607060706
DATA q6shuf<>+64(SB)/8, $0x0908090809080908
DATA q6shuf<>+72(SB)/8, $0x0908090809080908
DATA q6shuf<>+80(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA q6shuf<>+88(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA q6shuf<>+96(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA q6shuf<>+104(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA q6shuf<>+112(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA q6shuf<>+120(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL q6shuf<>(SB), RODATA|NOPTR, $128
