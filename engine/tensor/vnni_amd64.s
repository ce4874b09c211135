//go:build !purego

#include "textflag.h"

// AVX-512 VNNI kernels for Q8_0 and Q4_0 weights against Q8_0 activations.
//
// A call computes one tile of 16 weight rows against every batch column.
// For each 32-element block the tile's 16 rows are transposed into eight
// vectors W0..W7, lane l of Wk holding bytes 4k..4k+3 of row π(l) as
// unsigned bytes (Q8_0: w+128, by flipping the sign bit; Q4_0: the nibble,
// w+8). VPDPBUSD then takes four signed activation bytes broadcast to every
// lane, so eight instructions give the block's integer dot products of all
// 16 rows with one column, biased by K·Σx (K = 128 or 8), which the caller
// precomputes per column and block as nc = −K·Σx and which seeds the
// accumulator. The integer sums are exact; each is then combined in float32
// exactly as the portable kernels do, sum += float32(isum)·(d_w·d_x) in
// block order, so the tile kernel is bitwise equal to dotQ8_0Go/dotQ4_0Go
// whatever the batch.
//
// The sums are kept in out (16 floats per column, lane order π) across the
// blocks and put into row order at the end. π = 0-3, 8-11, 4-7, 12-15 (it
// is its own inverse).

DATA vnniperm<>+0(SB)/4, $0
DATA vnniperm<>+4(SB)/4, $1
DATA vnniperm<>+8(SB)/4, $2
DATA vnniperm<>+12(SB)/4, $3
DATA vnniperm<>+16(SB)/4, $8
DATA vnniperm<>+20(SB)/4, $9
DATA vnniperm<>+24(SB)/4, $10
DATA vnniperm<>+28(SB)/4, $11
DATA vnniperm<>+32(SB)/4, $4
DATA vnniperm<>+36(SB)/4, $5
DATA vnniperm<>+40(SB)/4, $6
DATA vnniperm<>+44(SB)/4, $7
DATA vnniperm<>+48(SB)/4, $12
DATA vnniperm<>+52(SB)/4, $13
DATA vnniperm<>+56(SB)/4, $14
DATA vnniperm<>+60(SB)/4, $15
GLOBL vnniperm<>(SB), RODATA|NOPTR, $64

// Loads the fp16 scales of the 16 rows (row r at SI + r·AX, 3·AX in BX,
// rows 8.. at DI, rows 4.. at R9, rows 12.. at R10) in lane order π as
// float32 into Z8.
#define DW16 \
	VPINSRW     $0, (SI), X8, X8 \
	VPINSRW     $1, (SI)(AX*1), X8, X8 \
	VPINSRW     $2, (SI)(AX*2), X8, X8 \
	VPINSRW     $3, (SI)(BX*1), X8, X8 \
	VPINSRW     $4, (DI), X8, X8 \
	VPINSRW     $5, (DI)(AX*1), X8, X8 \
	VPINSRW     $6, (DI)(AX*2), X8, X8 \
	VPINSRW     $7, (DI)(BX*1), X8, X8 \
	VPINSRW     $0, (R9), X10, X10 \
	VPINSRW     $1, (R9)(AX*1), X10, X10 \
	VPINSRW     $2, (R9)(AX*2), X10, X10 \
	VPINSRW     $3, (R9)(BX*1), X10, X10 \
	VPINSRW     $4, (R10), X10, X10 \
	VPINSRW     $5, (R10)(AX*1), X10, X10 \
	VPINSRW     $6, (R10)(AX*2), X10, X10 \
	VPINSRW     $7, (R10)(BX*1), X10, X10 \
	VINSERTI128 $1, X10, Y8, Y8 \
	VCVTPH2PS   Y8, Z8

// Row pointers of the tile's block: SI row 0, DI row 8, R9 row 4, R10 row
// 12; with AX = row bytes, sets BX = 3·AX.
#define ROWPTRS \
	LEAQ (AX)(AX*2), BX \
	MOVQ AX, DX \
	SHLQ $3, DX \
	LEAQ (SI)(DX*1), DI \
	LEAQ (SI)(AX*4), R9 \
	LEAQ (DI)(AX*4), R10

// Prefetches the bytes off ahead of the current block of all 16 rows: the
// tile reads 16 streams at once, more than the hardware prefetchers follow
// when weights come from memory.
#define PREFETCH16(off) \
	PREFETCHT0 off(SI) \
	PREFETCHT0 off(SI)(AX*1) \
	PREFETCHT0 off(SI)(AX*2) \
	PREFETCHT0 off(SI)(BX*1) \
	PREFETCHT0 off(R9) \
	PREFETCHT0 off(R9)(AX*1) \
	PREFETCHT0 off(R9)(AX*2) \
	PREFETCHT0 off(R9)(BX*1) \
	PREFETCHT0 off(DI) \
	PREFETCHT0 off(DI)(AX*1) \
	PREFETCHT0 off(DI)(AX*2) \
	PREFETCHT0 off(DI)(BX*1) \
	PREFETCHT0 off(R10) \
	PREFETCHT0 off(R10)(AX*1) \
	PREFETCHT0 off(R10)(AX*2) \
	PREFETCHT0 off(R10)(BX*1)

// Transposes Z0..Z7 (Z_i = dwords of row i | dwords of row i+8) into
// W0..W7 in Z0..Z7, lane order π (uses Z10..Z17).
#define TRANSPOSE \
	VPUNPCKLDQ  Z1, Z0, Z10 \
	VPUNPCKHDQ  Z1, Z0, Z11 \
	VPUNPCKLDQ  Z3, Z2, Z12 \
	VPUNPCKHDQ  Z3, Z2, Z13 \
	VPUNPCKLDQ  Z5, Z4, Z14 \
	VPUNPCKHDQ  Z5, Z4, Z15 \
	VPUNPCKLDQ  Z7, Z6, Z16 \
	VPUNPCKHDQ  Z7, Z6, Z17 \
	VPUNPCKLQDQ Z12, Z10, Z0 \
	VPUNPCKHQDQ Z12, Z10, Z1 \
	VPUNPCKLQDQ Z13, Z11, Z2 \
	VPUNPCKHQDQ Z13, Z11, Z3 \
	VPUNPCKLQDQ Z16, Z14, Z4 \
	VPUNPCKHQDQ Z16, Z14, Z5 \
	VPUNPCKLQDQ Z17, Z15, Z6 \
	VPUNPCKHQDQ Z17, Z15, Z7 \
	VSHUFI32X4  $0x88, Z4, Z0, Z10 \
	VSHUFI32X4  $0xDD, Z4, Z0, Z14 \
	VSHUFI32X4  $0x88, Z5, Z1, Z11 \
	VSHUFI32X4  $0xDD, Z5, Z1, Z15 \
	VSHUFI32X4  $0x88, Z6, Z2, Z12 \
	VSHUFI32X4  $0xDD, Z6, Z2, Z16 \
	VSHUFI32X4  $0x88, Z7, Z3, Z13 \
	VSHUFI32X4  $0xDD, Z7, Z3, Z17

// One column: Z9 = nc + Σ_k W_k·x (x at DI), then out(R10) +=
// float32(Z9)·(dw·xd(BX)).
#define COLUMN \
	VPBROADCASTD  (R9), Z9 \
	VPDPBUSD.BCST 0(DI), Z0, Z9 \
	VPDPBUSD.BCST 4(DI), Z1, Z9 \
	VPDPBUSD.BCST 8(DI), Z2, Z9 \
	VPDPBUSD.BCST 12(DI), Z3, Z9 \
	VPDPBUSD.BCST 16(DI), Z4, Z9 \
	VPDPBUSD.BCST 20(DI), Z5, Z9 \
	VPDPBUSD.BCST 24(DI), Z6, Z9 \
	VPDPBUSD.BCST 28(DI), Z7, Z9 \
	VCVTDQ2PS     Z9, Z9 \
	VMULPS.BCST   (BX), Z8, Z10 \
	VMULPS        Z10, Z9, Z9 \
	VADDPS        (R10), Z9, Z9 \
	VMOVUPS       Z9, (R10)

// The column loop of block R8 over the batch columns, then the advance to
// the next block (SI by the block size bs).
#define COLUMNS(bs, loop, next) \
	MOVQ R8, DI \
	SHLQ $5, DI \
	ADDQ xq+16(FP), DI \
	MOVQ xd+32(FP), BX \
	LEAQ (BX)(R8*4), BX \
	MOVQ nc+40(FP), R9 \
	LEAQ (R9)(R8*4), R9 \
	MOVQ out+72(FP), R10 \
	MOVQ batch+64(FP), DX \
loop: \
	COLUMN \
	ADDQ R11, DI \
	ADDQ R12, BX \
	ADDQ R12, R9 \
	ADDQ R13, R10 \
	DECQ DX \
	JNZ  loop \
	ADDQ bs, SI \
	INCQ R8 \
	CMPQ R8, CX \
	JLT  next

// Common prologue: registers, constants and zeroed outputs. AX = row bytes,
// CX = nb, R8 = 0 (block), R11 = xstride, R12 = dstride·4,
// R13 = ostride·4, Z24 = π.
#define PROLOGUE(zl) \
	MOVQ    w+0(FP), SI \
	MOVQ    rb+8(FP), AX \
	MOVQ    nb+56(FP), CX \
	MOVQ    xstride+24(FP), R11 \
	MOVQ    dstride+48(FP), R12 \
	SHLQ    $2, R12 \
	MOVQ    ostride+80(FP), R13 \
	SHLQ    $2, R13 \
	VMOVDQU32 vnniperm<>(SB), Z24 \
	VPXORD  Z9, Z9, Z9 \
	MOVQ    out+72(FP), DI \
	MOVQ    batch+64(FP), DX \
zl: \
	VMOVUPS Z9, (DI) \
	ADDQ    R13, DI \
	DECQ    DX \
	JNZ     zl \
	XORQ    R8, R8

// Puts every column's 16 sums into row order.
#define EPILOGUE(pl) \
	MOVQ    out+72(FP), DI \
	MOVQ    batch+64(FP), DX \
pl: \
	VPERMD  (DI), Z24, Z9 \
	VMOVUPS Z9, (DI) \
	ADDQ    R13, DI \
	DECQ    DX \
	JNZ     pl \
	VZEROUPPER \
	RET

// func q8TileVNNI(w *byte, rb int, xq *int8, xstride int, xd *float32, nc *int32, dstride int, nb int, batch int, out *float32, ostride int)
// Q8_0 tile: rows at w + r·rb (r < 16), nb ≥ 1 blocks of 34 bytes; column
// c's quants at xq + c·xstride, its scales and biases at xd/nc + c·dstride;
// its 16 results at out + c·ostride. batch ≥ 1.
TEXT ·q8TileVNNI(SB), NOSPLIT, $0-88
	PROLOGUE(q8zero)
	MOVL         $0x80808080, DX
	VPBROADCASTD DX, Z23

q8block:
	ROWPTRS
	PREFETCH16(512)
	VMOVDQU      2(SI), Y0
	VINSERTI64X4 $1, 2(DI), Z0, Z0
	VMOVDQU      2(SI)(AX*1), Y1
	VINSERTI64X4 $1, 2(DI)(AX*1), Z1, Z1
	VMOVDQU      2(SI)(AX*2), Y2
	VINSERTI64X4 $1, 2(DI)(AX*2), Z2, Z2
	VMOVDQU      2(SI)(BX*1), Y3
	VINSERTI64X4 $1, 2(DI)(BX*1), Z3, Z3
	VMOVDQU      2(R9), Y4
	VINSERTI64X4 $1, 2(R10), Z4, Z4
	VMOVDQU      2(R9)(AX*1), Y5
	VINSERTI64X4 $1, 2(R10)(AX*1), Z5, Z5
	VMOVDQU      2(R9)(AX*2), Y6
	VINSERTI64X4 $1, 2(R10)(AX*2), Z6, Z6
	VMOVDQU      2(R9)(BX*1), Y7
	VINSERTI64X4 $1, 2(R10)(BX*1), Z7, Z7
	DW16
	TRANSPOSE
	VPXORD       Z23, Z10, Z0
	VPXORD       Z23, Z11, Z1
	VPXORD       Z23, Z12, Z2
	VPXORD       Z23, Z13, Z3
	VPXORD       Z23, Z14, Z4
	VPXORD       Z23, Z15, Z5
	VPXORD       Z23, Z16, Z6
	VPXORD       Z23, Z17, Z7
	COLUMNS($34, q8col, q8block)
	EPILOGUE(q8perm)

// Expands the 16 Q4_0 nibble bytes at p and q into
// z = [lo(p) hi(p) lo(q) hi(q)] (K3 selects the words of the odd 128-bit
// chunks, Z22 holds 0x0F bytes).
#define Q4ROWS(p, q, x, y, z) \
	VMOVDQU     p, x \
	VINSERTI128 $1, q, y, y \
	VSHUFI32X4  $0x50, z, z, z \
	VPSRLW      $4, z, K3, z \
	VPANDD      Z22, z, z

// func q4TileVNNI(w *byte, rb int, xq *int8, xstride int, xd *float32, nc *int32, dstride int, nb int, batch int, out *float32, ostride int)
// As q8TileVNNI for Q4_0 rows (blocks of 18 bytes).
TEXT ·q4TileVNNI(SB), NOSPLIT, $0-88
	PROLOGUE(q4zero)
	MOVL         $0x0F0F0F0F, DX
	VPBROADCASTD DX, Z22
	MOVL         $0xFF00FF00, DX
	KMOVD        DX, K3

q4block:
	ROWPTRS
	PREFETCH16(256)
	Q4ROWS(2(SI), 2(DI), X0, Y0, Z0)
	Q4ROWS(2(SI)(AX*1), 2(DI)(AX*1), X1, Y1, Z1)
	Q4ROWS(2(SI)(AX*2), 2(DI)(AX*2), X2, Y2, Z2)
	Q4ROWS(2(SI)(BX*1), 2(DI)(BX*1), X3, Y3, Z3)
	Q4ROWS(2(R9), 2(R10), X4, Y4, Z4)
	Q4ROWS(2(R9)(AX*1), 2(R10)(AX*1), X5, Y5, Z5)
	Q4ROWS(2(R9)(AX*2), 2(R10)(AX*2), X6, Y6, Z6)
	Q4ROWS(2(R9)(BX*1), 2(R10)(BX*1), X7, Y7, Z7)
	DW16
	TRANSPOSE
	VMOVDQA64    Z10, Z0
	VMOVDQA64    Z11, Z1
	VMOVDQA64    Z12, Z2
	VMOVDQA64    Z13, Z3
	VMOVDQA64    Z14, Z4
	VMOVDQA64    Z15, Z5
	VMOVDQA64    Z16, Z6
	VMOVDQA64    Z17, Z7
	COLUMNS($18, q4col, q4block)
	EPILOGUE(q4perm)

// Rounds the float32 lanes of z half away from zero into int32 lanes of z
// (t, f: scratch): t = trunc(z), plus ±1 where |z−t| ≥ 0.5. Needs |x| mask
// in Z31, 0.5 in Z30, 1.0 in Z29, the sign bit in Z27.
#define ROUNDHA(z, t, f) \
	VRNDSCALEPS $0x0B, z, t \
	VSUBPS      t, z, f \
	VANDPS      Z31, f, z \
	VCMPPS      $0x1D, Z30, z, K2 \
	VANDPS      Z27, f, f \
	VORPS       Z29, f, f \
	VADDPS      f, t, K2, t \
	VCVTTPS2DQ  t, z

// func quantQ8_0AVX512(x *float32, qs *int8, d *float32, nc *int32, nb int, k int32)
// quantizeActQ8_0 for nb blocks (bitwise the same quants and scales), also
// writing nc[i] = k·Σ qs of block i.
TEXT ·quantQ8_0AVX512(SB), NOSPLIT, $0-44
	MOVQ         x+0(FP), SI
	MOVQ         qs+8(FP), DI
	MOVQ         d+16(FP), DX
	MOVQ         nc+24(FP), BX
	MOVQ         nb+32(FP), CX
	MOVL         k+40(FP), R8
	MOVL         $0x7FFFFFFF, AX
	VPBROADCASTD AX, Z31
	MOVL         $0x80000000, AX
	VPBROADCASTD AX, Z27
	MOVL         $0x3F000000, AX     // 0.5
	VPBROADCASTD AX, Z30
	MOVL         $0x3F800000, AX     // 1.0
	VPBROADCASTD AX, Z29
	MOVL         $0x42FE0000, AX     // 127.0
	VMOVD        AX, X28
	TESTQ        CX, CX
	JEQ          qdone

qloop:
	VMOVUPS       (SI), Z0
	VMOVUPS       64(SI), Z1
	VANDPS        Z31, Z0, Z2
	VANDPS        Z31, Z1, Z3
	VMAXPS        Z3, Z2, Z2
	VEXTRACTF64X4 $1, Z2, Y3
	VMAXPS        Y3, Y2, Y2
	VEXTRACTF128  $1, Y2, X3
	VMAXPS        X3, X2, X2
	VPERMILPS     $0x4E, X2, X3
	VMAXPS        X3, X2, X2
	VPERMILPS     $0xB1, X2, X3
	VMAXPS        X3, X2, X2
	VDIVSS        X28, X2, X4        // d = amax/127
	VMOVSS        X4, (DX)
	VXORPS        X5, X5, X5
	VCMPSS        $4, X5, X4, K1     // d != 0
	VDIVSS        X4, X29, K1, X5    // id = 1/d, or 0
	VBROADCASTSS  X5, Z5
	VMULPS        Z5, Z0, Z0
	VMULPS        Z5, Z1, Z1
	ROUNDHA(Z0, Z6, Z8)
	ROUNDHA(Z1, Z7, Z9)
	VPMOVSDB      Z0, X12
	VPMOVSDB      Z1, X13
	VMOVDQU       X12, (DI)
	VMOVDQU       X13, 16(DI)
	VPADDD        Z1, Z0, Z0
	VEXTRACTI64X4 $1, Z0, Y1
	VPADDD        Y1, Y0, Y0
	VEXTRACTI128  $1, Y0, X1
	VPADDD        X1, X0, X0
	VPSHUFD       $0x4E, X0, X1
	VPADDD        X1, X0, X0
	VPSHUFD       $0xB1, X0, X1
	VPADDD        X1, X0, X0
	VMOVD         X0, AX
	IMULL         R8, AX
	MOVL          AX, (BX)
	ADDQ          $128, SI
	ADDQ          $32, DI
	ADDQ          $4, DX
	ADDQ          $4, BX
	DECQ          CX
	JNZ           qloop

qdone:
	VZEROUPPER
	RET
