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

// func quantQ8_0AVX512(x *float32, qs *int8, d *float32, nc *int32, nb int, k int32)
// quantizeActQ8_0 for nb blocks (bitwise the same quants and scales: id =
// 127/amax, ties to even, the scale rounded to fp16), also writing
// nc[i] = k·Σ qs of block i.
TEXT ·quantQ8_0AVX512(SB), NOSPLIT, $0-44
	MOVQ         x+0(FP), SI
	MOVQ         qs+8(FP), DI
	MOVQ         d+16(FP), DX
	MOVQ         nc+24(FP), BX
	MOVQ         nb+32(FP), CX
	MOVL         k+40(FP), R8
	MOVL         $0x7FFFFFFF, AX
	VPBROADCASTD AX, Z31
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
	VDIVSS        X28, X2, X4        // amax/127
	VCVTPS2PH     $0, X4, X4         // to fp16, nearest even
	VCVTPH2PS     X4, X4
	VMOVSS        X4, (DX)           // d
	VXORPS        X5, X5, X5
	VCMPSS        $4, X5, X2, K1     // amax != 0
	VDIVSS        X2, X28, K1, X5    // id = 127/amax, or 0
	VBROADCASTSS  X5, Z5
	VMULPS        Z5, Z0, Z0
	VMULPS        Z5, Z1, Z1
	VRNDSCALEPS   $0x08, Z0, Z0      // nearest, ties to even
	VRNDSCALEPS   $0x08, Z1, Z1
	VCVTTPS2DQ    Z0, Z0
	VCVTTPS2DQ    Z1, Z1
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

// Q4_K tile kernel. Frame: 0..4095 per-column integer sums Σ sc·Σq4·q8
// (64 columns × 16 rows), 4096 the eight sub-block scales per row (int32),
// 4608 the eight mins per row as int16 pairs (m, m), 5120 d and 5184 dmin
// per row (float32). Lane order π throughout, as in the Q8_0 kernel.

// func q4kTileVNNI(w *byte, rb int, xq *int8, xstride int, xd *float32, dstride int, bsums *int16, bstride int, nb int, batch int, out *float32, ostride int)
// 16 Q4_K rows (w + r·rb, nb ≥ 1 super-blocks of 144 bytes) against
// 1 ≤ batch ≤ 64 Q8_K columns (quants at xq + c·xstride, scales at
// xd + c·dstride, sums of 16 at bsums + c·bstride); column c's 16 results
// at out + c·ostride. Per super-block the integers sumq = Σ_j sc_j·Σq4·q8
// (VPDPBUSD on the nibbles, VPMULLD by the scales) and summ = Σ_j m_j·Σq8
// (VPDPWSSD on the bsums pairs) are exact and combined as dotQ4KGo does,
// so the results are bitwise dotQ4KGo's.
TEXT ·q4kTileVNNI(SB), 0, $5248-96
	MOVQ         rb+8(FP), AX
	VPBROADCASTD AX, Z21
	VPMULLD      vnniperm<>(SB), Z21, Z21   // gather offsets r·rb, lane order π
	MOVL         $0x0F0F0F0F, DX
	VPBROADCASTD DX, Z22
	MOVL         $0x3F3F3F3F, DX
	VPBROADCASTD DX, Z29
	MOVL         $0x03030303, DX
	VPBROADCASTD DX, Z30
	MOVL         $0xFF, DX
	VPBROADCASTD DX, Z31
	VMOVDQU32    vnniperm<>(SB), Z24
	MOVQ         xstride+24(FP), R11
	MOVQ         ostride+88(FP), R13
	SHLQ         $2, R13
	VPXORD       Z9, Z9, Z9
	MOVQ         out+80(FP), DI
	MOVQ         batch+72(FP), DX

q4kzero:
	VMOVUPS Z9, (DI)
	ADDQ    R13, DI
	DECQ    DX
	JNZ     q4kzero
	MOVQ    w+0(FP), SI
	XORQ    R8, R8

q4ksb:
	// d, dmin, and the packed scales/mins (u0, u1, u2) of the 16 rows.
	KXNORW       K0, K0, K1
	VPGATHERDD   (SI)(Z21*1), K1, Z27
	KXNORW       K0, K0, K1
	VPGATHERDD   4(SI)(Z21*1), K1, Z24
	KXNORW       K0, K0, K1
	VPGATHERDD   8(SI)(Z21*1), K1, Z25
	KXNORW       K0, K0, K1
	VPGATHERDD   12(SI)(Z21*1), K1, Z26
	VPMOVDW      Z27, Y28
	VCVTPH2PS    Y28, Z28
	VMOVUPS      Z28, 5120(SP)
	VPSRLD       $16, Z27, Z27
	VPMOVDW      Z27, Y28
	VCVTPH2PS    Y28, Z28
	VMOVUPS      Z28, 5184(SP)
	// scales 0..3 = u0 & 63, scales 4..7 = (u2 & 0xF) | ((u0 >> 6) & 3) << 4,
	// mins 0..3 = u1 & 63, mins 4..7 = ((u2 >> 4) & 0xF) | ((u1 >> 6) & 3) << 4
	// (bytewise, ggml's get_scale_min_k4).
	VPANDD       Z29, Z24, Z0
	VPSRLD       $6, Z24, Z2
	VPANDD       Z30, Z2, Z2
	VPSLLD       $4, Z2, Z2
	VPANDD       Z22, Z26, Z1
	VPORD        Z2, Z1, Z1
	VPANDD       Z29, Z25, Z3
	VPSRLD       $6, Z25, Z2
	VPANDD       Z30, Z2, Z2
	VPSLLD       $4, Z2, Z2
	VPSRLD       $4, Z26, Z4
	VPANDD       Z22, Z4, Z4
	VPORD        Z2, Z4, Z4
	VPANDD       Z31, Z0, Z5
	VMOVDQU32    Z5, 4096(SP)
	VPANDD       Z31, Z3, Z5
	VPSLLD       $16, Z5, Z6
	VPORD        Z6, Z5, Z5
	VMOVDQU32    Z5, 4608(SP)
	VPSRLD       $8, Z0, Z5
	VPANDD       Z31, Z5, Z5
	VMOVDQU32    Z5, 4160(SP)
	VPSRLD       $8, Z3, Z5
	VPANDD       Z31, Z5, Z5
	VPSLLD       $16, Z5, Z6
	VPORD        Z6, Z5, Z5
	VMOVDQU32    Z5, 4672(SP)
	VPSRLD       $16, Z0, Z5
	VPANDD       Z31, Z5, Z5
	VMOVDQU32    Z5, 4224(SP)
	VPSRLD       $16, Z3, Z5
	VPANDD       Z31, Z5, Z5
	VPSLLD       $16, Z5, Z6
	VPORD        Z6, Z5, Z5
	VMOVDQU32    Z5, 4736(SP)
	VPSRLD       $24, Z0, Z5
	VMOVDQU32    Z5, 4288(SP)
	VPSRLD       $24, Z3, Z5
	VPSLLD       $16, Z5, Z6
	VPORD        Z6, Z5, Z5
	VMOVDQU32    Z5, 4800(SP)
	VPANDD       Z31, Z1, Z5
	VMOVDQU32    Z5, 4352(SP)
	VPANDD       Z31, Z4, Z5
	VPSLLD       $16, Z5, Z6
	VPORD        Z6, Z5, Z5
	VMOVDQU32    Z5, 4864(SP)
	VPSRLD       $8, Z1, Z5
	VPANDD       Z31, Z5, Z5
	VMOVDQU32    Z5, 4416(SP)
	VPSRLD       $8, Z4, Z5
	VPANDD       Z31, Z5, Z5
	VPSLLD       $16, Z5, Z6
	VPORD        Z6, Z5, Z5
	VMOVDQU32    Z5, 4928(SP)
	VPSRLD       $16, Z1, Z5
	VPANDD       Z31, Z5, Z5
	VMOVDQU32    Z5, 4480(SP)
	VPSRLD       $16, Z4, Z5
	VPANDD       Z31, Z5, Z5
	VPSLLD       $16, Z5, Z6
	VPORD        Z6, Z5, Z5
	VMOVDQU32    Z5, 4992(SP)
	VPSRLD       $24, Z1, Z5
	VMOVDQU32    Z5, 4544(SP)
	VPSRLD       $24, Z4, Z5
	VPSLLD       $16, Z5, Z6
	VPORD        Z6, Z5, Z5
	VMOVDQU32    Z5, 5056(SP)
	// Zero the per-column sums.
	VPXORD       Z9, Z9, Z9
	LEAQ         0(SP), DI
	MOVQ         batch+72(FP), DX

q4kzq:
	VMOVDQU32 Z9, (DI)
	ADDQ      $64, DI
	DECQ      DX
	JNZ       q4kzq
	MOVQ      rb+8(FP), AX
	// 64 elements 0..63: sub-blocks 0 (low nibbles) and 1 (high)
	ROWPTRS
	VMOVDQU      16(SI), Y0
	VINSERTI64X4 $1, 16(DI), Z0, Z0
	VMOVDQU      16(SI)(AX*1), Y1
	VINSERTI64X4 $1, 16(DI)(AX*1), Z1, Z1
	VMOVDQU      16(SI)(AX*2), Y2
	VINSERTI64X4 $1, 16(DI)(AX*2), Z2, Z2
	VMOVDQU      16(SI)(BX*1), Y3
	VINSERTI64X4 $1, 16(DI)(BX*1), Z3, Z3
	VMOVDQU      16(R9), Y4
	VINSERTI64X4 $1, 16(R10), Z4, Z4
	VMOVDQU      16(R9)(AX*1), Y5
	VINSERTI64X4 $1, 16(R10)(AX*1), Z5, Z5
	VMOVDQU      16(R9)(AX*2), Y6
	VINSERTI64X4 $1, 16(R10)(AX*2), Z6, Z6
	VMOVDQU      16(R9)(BX*1), Y7
	VINSERTI64X4 $1, 16(R10)(BX*1), Z7, Z7
	TRANSPOSE
	VPANDD       Z22, Z10, Z0
	VPANDD       Z22, Z11, Z1
	VPANDD       Z22, Z12, Z2
	VPANDD       Z22, Z13, Z3
	VPANDD       Z22, Z14, Z4
	VPANDD       Z22, Z15, Z5
	VPANDD       Z22, Z16, Z6
	VPANDD       Z22, Z17, Z7
	VPSRLD       $4, Z10, Z10
	VPANDD       Z22, Z10, Z10
	VPSRLD       $4, Z11, Z11
	VPANDD       Z22, Z11, Z11
	VPSRLD       $4, Z12, Z12
	VPANDD       Z22, Z12, Z12
	VPSRLD       $4, Z13, Z13
	VPANDD       Z22, Z13, Z13
	VPSRLD       $4, Z14, Z14
	VPANDD       Z22, Z14, Z14
	VPSRLD       $4, Z15, Z15
	VPANDD       Z22, Z15, Z15
	VPSRLD       $4, Z16, Z16
	VPANDD       Z22, Z16, Z16
	VPSRLD       $4, Z17, Z17
	VPANDD       Z22, Z17, Z17
	MOVQ         R8, DI
	SHLQ         $8, DI
	ADDQ         xq+16(FP), DI
	ADDQ         $0, DI
	LEAQ         0(SP), R9
	MOVQ         batch+72(FP), DX
	VMOVDQU32    4096(SP), Z20
	VMOVDQU32    4160(SP), Z23

q4kc0:
	VPXORD       Z18, Z18, Z18
	VPXORD       Z19, Z19, Z19
	VPDPBUSD.BCST 0(DI), Z0, Z18
	VPDPBUSD.BCST 4(DI), Z1, Z18
	VPDPBUSD.BCST 8(DI), Z2, Z18
	VPDPBUSD.BCST 12(DI), Z3, Z18
	VPDPBUSD.BCST 16(DI), Z4, Z18
	VPDPBUSD.BCST 20(DI), Z5, Z18
	VPDPBUSD.BCST 24(DI), Z6, Z18
	VPDPBUSD.BCST 28(DI), Z7, Z18
	VPDPBUSD.BCST 32(DI), Z10, Z19
	VPDPBUSD.BCST 36(DI), Z11, Z19
	VPDPBUSD.BCST 40(DI), Z12, Z19
	VPDPBUSD.BCST 44(DI), Z13, Z19
	VPDPBUSD.BCST 48(DI), Z14, Z19
	VPDPBUSD.BCST 52(DI), Z15, Z19
	VPDPBUSD.BCST 56(DI), Z16, Z19
	VPDPBUSD.BCST 60(DI), Z17, Z19
	VPMULLD      Z20, Z18, Z18
	VPMULLD      Z23, Z19, Z19
	VPADDD       Z19, Z18, Z18
	VPADDD       (R9), Z18, Z18
	VMOVDQU32    Z18, (R9)
	ADDQ         R11, DI
	ADDQ         $64, R9
	DECQ         DX
	JNZ          q4kc0
	// 64 elements 64..127: sub-blocks 2 (low nibbles) and 3 (high)
	ROWPTRS
	VMOVDQU      48(SI), Y0
	VINSERTI64X4 $1, 48(DI), Z0, Z0
	VMOVDQU      48(SI)(AX*1), Y1
	VINSERTI64X4 $1, 48(DI)(AX*1), Z1, Z1
	VMOVDQU      48(SI)(AX*2), Y2
	VINSERTI64X4 $1, 48(DI)(AX*2), Z2, Z2
	VMOVDQU      48(SI)(BX*1), Y3
	VINSERTI64X4 $1, 48(DI)(BX*1), Z3, Z3
	VMOVDQU      48(R9), Y4
	VINSERTI64X4 $1, 48(R10), Z4, Z4
	VMOVDQU      48(R9)(AX*1), Y5
	VINSERTI64X4 $1, 48(R10)(AX*1), Z5, Z5
	VMOVDQU      48(R9)(AX*2), Y6
	VINSERTI64X4 $1, 48(R10)(AX*2), Z6, Z6
	VMOVDQU      48(R9)(BX*1), Y7
	VINSERTI64X4 $1, 48(R10)(BX*1), Z7, Z7
	TRANSPOSE
	VPANDD       Z22, Z10, Z0
	VPANDD       Z22, Z11, Z1
	VPANDD       Z22, Z12, Z2
	VPANDD       Z22, Z13, Z3
	VPANDD       Z22, Z14, Z4
	VPANDD       Z22, Z15, Z5
	VPANDD       Z22, Z16, Z6
	VPANDD       Z22, Z17, Z7
	VPSRLD       $4, Z10, Z10
	VPANDD       Z22, Z10, Z10
	VPSRLD       $4, Z11, Z11
	VPANDD       Z22, Z11, Z11
	VPSRLD       $4, Z12, Z12
	VPANDD       Z22, Z12, Z12
	VPSRLD       $4, Z13, Z13
	VPANDD       Z22, Z13, Z13
	VPSRLD       $4, Z14, Z14
	VPANDD       Z22, Z14, Z14
	VPSRLD       $4, Z15, Z15
	VPANDD       Z22, Z15, Z15
	VPSRLD       $4, Z16, Z16
	VPANDD       Z22, Z16, Z16
	VPSRLD       $4, Z17, Z17
	VPANDD       Z22, Z17, Z17
	MOVQ         R8, DI
	SHLQ         $8, DI
	ADDQ         xq+16(FP), DI
	ADDQ         $64, DI
	LEAQ         0(SP), R9
	MOVQ         batch+72(FP), DX
	VMOVDQU32    4224(SP), Z20
	VMOVDQU32    4288(SP), Z23

q4kc1:
	VPXORD       Z18, Z18, Z18
	VPXORD       Z19, Z19, Z19
	VPDPBUSD.BCST 0(DI), Z0, Z18
	VPDPBUSD.BCST 4(DI), Z1, Z18
	VPDPBUSD.BCST 8(DI), Z2, Z18
	VPDPBUSD.BCST 12(DI), Z3, Z18
	VPDPBUSD.BCST 16(DI), Z4, Z18
	VPDPBUSD.BCST 20(DI), Z5, Z18
	VPDPBUSD.BCST 24(DI), Z6, Z18
	VPDPBUSD.BCST 28(DI), Z7, Z18
	VPDPBUSD.BCST 32(DI), Z10, Z19
	VPDPBUSD.BCST 36(DI), Z11, Z19
	VPDPBUSD.BCST 40(DI), Z12, Z19
	VPDPBUSD.BCST 44(DI), Z13, Z19
	VPDPBUSD.BCST 48(DI), Z14, Z19
	VPDPBUSD.BCST 52(DI), Z15, Z19
	VPDPBUSD.BCST 56(DI), Z16, Z19
	VPDPBUSD.BCST 60(DI), Z17, Z19
	VPMULLD      Z20, Z18, Z18
	VPMULLD      Z23, Z19, Z19
	VPADDD       Z19, Z18, Z18
	VPADDD       (R9), Z18, Z18
	VMOVDQU32    Z18, (R9)
	ADDQ         R11, DI
	ADDQ         $64, R9
	DECQ         DX
	JNZ          q4kc1
	// 64 elements 128..191: sub-blocks 4 (low nibbles) and 5 (high)
	ROWPTRS
	VMOVDQU      80(SI), Y0
	VINSERTI64X4 $1, 80(DI), Z0, Z0
	VMOVDQU      80(SI)(AX*1), Y1
	VINSERTI64X4 $1, 80(DI)(AX*1), Z1, Z1
	VMOVDQU      80(SI)(AX*2), Y2
	VINSERTI64X4 $1, 80(DI)(AX*2), Z2, Z2
	VMOVDQU      80(SI)(BX*1), Y3
	VINSERTI64X4 $1, 80(DI)(BX*1), Z3, Z3
	VMOVDQU      80(R9), Y4
	VINSERTI64X4 $1, 80(R10), Z4, Z4
	VMOVDQU      80(R9)(AX*1), Y5
	VINSERTI64X4 $1, 80(R10)(AX*1), Z5, Z5
	VMOVDQU      80(R9)(AX*2), Y6
	VINSERTI64X4 $1, 80(R10)(AX*2), Z6, Z6
	VMOVDQU      80(R9)(BX*1), Y7
	VINSERTI64X4 $1, 80(R10)(BX*1), Z7, Z7
	TRANSPOSE
	VPANDD       Z22, Z10, Z0
	VPANDD       Z22, Z11, Z1
	VPANDD       Z22, Z12, Z2
	VPANDD       Z22, Z13, Z3
	VPANDD       Z22, Z14, Z4
	VPANDD       Z22, Z15, Z5
	VPANDD       Z22, Z16, Z6
	VPANDD       Z22, Z17, Z7
	VPSRLD       $4, Z10, Z10
	VPANDD       Z22, Z10, Z10
	VPSRLD       $4, Z11, Z11
	VPANDD       Z22, Z11, Z11
	VPSRLD       $4, Z12, Z12
	VPANDD       Z22, Z12, Z12
	VPSRLD       $4, Z13, Z13
	VPANDD       Z22, Z13, Z13
	VPSRLD       $4, Z14, Z14
	VPANDD       Z22, Z14, Z14
	VPSRLD       $4, Z15, Z15
	VPANDD       Z22, Z15, Z15
	VPSRLD       $4, Z16, Z16
	VPANDD       Z22, Z16, Z16
	VPSRLD       $4, Z17, Z17
	VPANDD       Z22, Z17, Z17
	MOVQ         R8, DI
	SHLQ         $8, DI
	ADDQ         xq+16(FP), DI
	ADDQ         $128, DI
	LEAQ         0(SP), R9
	MOVQ         batch+72(FP), DX
	VMOVDQU32    4352(SP), Z20
	VMOVDQU32    4416(SP), Z23

q4kc2:
	VPXORD       Z18, Z18, Z18
	VPXORD       Z19, Z19, Z19
	VPDPBUSD.BCST 0(DI), Z0, Z18
	VPDPBUSD.BCST 4(DI), Z1, Z18
	VPDPBUSD.BCST 8(DI), Z2, Z18
	VPDPBUSD.BCST 12(DI), Z3, Z18
	VPDPBUSD.BCST 16(DI), Z4, Z18
	VPDPBUSD.BCST 20(DI), Z5, Z18
	VPDPBUSD.BCST 24(DI), Z6, Z18
	VPDPBUSD.BCST 28(DI), Z7, Z18
	VPDPBUSD.BCST 32(DI), Z10, Z19
	VPDPBUSD.BCST 36(DI), Z11, Z19
	VPDPBUSD.BCST 40(DI), Z12, Z19
	VPDPBUSD.BCST 44(DI), Z13, Z19
	VPDPBUSD.BCST 48(DI), Z14, Z19
	VPDPBUSD.BCST 52(DI), Z15, Z19
	VPDPBUSD.BCST 56(DI), Z16, Z19
	VPDPBUSD.BCST 60(DI), Z17, Z19
	VPMULLD      Z20, Z18, Z18
	VPMULLD      Z23, Z19, Z19
	VPADDD       Z19, Z18, Z18
	VPADDD       (R9), Z18, Z18
	VMOVDQU32    Z18, (R9)
	ADDQ         R11, DI
	ADDQ         $64, R9
	DECQ         DX
	JNZ          q4kc2
	// 64 elements 192..255: sub-blocks 6 (low nibbles) and 7 (high)
	ROWPTRS
	VMOVDQU      112(SI), Y0
	VINSERTI64X4 $1, 112(DI), Z0, Z0
	VMOVDQU      112(SI)(AX*1), Y1
	VINSERTI64X4 $1, 112(DI)(AX*1), Z1, Z1
	VMOVDQU      112(SI)(AX*2), Y2
	VINSERTI64X4 $1, 112(DI)(AX*2), Z2, Z2
	VMOVDQU      112(SI)(BX*1), Y3
	VINSERTI64X4 $1, 112(DI)(BX*1), Z3, Z3
	VMOVDQU      112(R9), Y4
	VINSERTI64X4 $1, 112(R10), Z4, Z4
	VMOVDQU      112(R9)(AX*1), Y5
	VINSERTI64X4 $1, 112(R10)(AX*1), Z5, Z5
	VMOVDQU      112(R9)(AX*2), Y6
	VINSERTI64X4 $1, 112(R10)(AX*2), Z6, Z6
	VMOVDQU      112(R9)(BX*1), Y7
	VINSERTI64X4 $1, 112(R10)(BX*1), Z7, Z7
	TRANSPOSE
	VPANDD       Z22, Z10, Z0
	VPANDD       Z22, Z11, Z1
	VPANDD       Z22, Z12, Z2
	VPANDD       Z22, Z13, Z3
	VPANDD       Z22, Z14, Z4
	VPANDD       Z22, Z15, Z5
	VPANDD       Z22, Z16, Z6
	VPANDD       Z22, Z17, Z7
	VPSRLD       $4, Z10, Z10
	VPANDD       Z22, Z10, Z10
	VPSRLD       $4, Z11, Z11
	VPANDD       Z22, Z11, Z11
	VPSRLD       $4, Z12, Z12
	VPANDD       Z22, Z12, Z12
	VPSRLD       $4, Z13, Z13
	VPANDD       Z22, Z13, Z13
	VPSRLD       $4, Z14, Z14
	VPANDD       Z22, Z14, Z14
	VPSRLD       $4, Z15, Z15
	VPANDD       Z22, Z15, Z15
	VPSRLD       $4, Z16, Z16
	VPANDD       Z22, Z16, Z16
	VPSRLD       $4, Z17, Z17
	VPANDD       Z22, Z17, Z17
	MOVQ         R8, DI
	SHLQ         $8, DI
	ADDQ         xq+16(FP), DI
	ADDQ         $192, DI
	LEAQ         0(SP), R9
	MOVQ         batch+72(FP), DX
	VMOVDQU32    4480(SP), Z20
	VMOVDQU32    4544(SP), Z23

q4kc3:
	VPXORD       Z18, Z18, Z18
	VPXORD       Z19, Z19, Z19
	VPDPBUSD.BCST 0(DI), Z0, Z18
	VPDPBUSD.BCST 4(DI), Z1, Z18
	VPDPBUSD.BCST 8(DI), Z2, Z18
	VPDPBUSD.BCST 12(DI), Z3, Z18
	VPDPBUSD.BCST 16(DI), Z4, Z18
	VPDPBUSD.BCST 20(DI), Z5, Z18
	VPDPBUSD.BCST 24(DI), Z6, Z18
	VPDPBUSD.BCST 28(DI), Z7, Z18
	VPDPBUSD.BCST 32(DI), Z10, Z19
	VPDPBUSD.BCST 36(DI), Z11, Z19
	VPDPBUSD.BCST 40(DI), Z12, Z19
	VPDPBUSD.BCST 44(DI), Z13, Z19
	VPDPBUSD.BCST 48(DI), Z14, Z19
	VPDPBUSD.BCST 52(DI), Z15, Z19
	VPDPBUSD.BCST 56(DI), Z16, Z19
	VPDPBUSD.BCST 60(DI), Z17, Z19
	VPMULLD      Z20, Z18, Z18
	VPMULLD      Z23, Z19, Z19
	VPADDD       Z19, Z18, Z18
	VPADDD       (R9), Z18, Z18
	VMOVDQU32    Z18, (R9)
	ADDQ         R11, DI
	ADDQ         $64, R9
	DECQ         DX
	JNZ          q4kc3
	// summ, and the float combination per column.
	VMOVDQU32    4608(SP), Z0
	VMOVDQU32    4672(SP), Z1
	VMOVDQU32    4736(SP), Z2
	VMOVDQU32    4800(SP), Z3
	VMOVDQU32    4864(SP), Z4
	VMOVDQU32    4928(SP), Z5
	VMOVDQU32    4992(SP), Z6
	VMOVDQU32    5056(SP), Z7
	VMOVUPS      5120(SP), Z8
	VMOVUPS      5184(SP), Z9
	MOVQ         R8, DI
	SHLQ         $5, DI
	ADDQ         bsums+48(FP), DI
	MOVQ         xd+32(FP), BX
	LEAQ         (BX)(R8*4), BX
	LEAQ         0(SP), R9
	MOVQ         out+80(FP), R10
	MOVQ         dstride+40(FP), R12
	SHLQ         $2, R12
	MOVQ         bstride+56(FP), R14
	SHLQ         $1, R14
	MOVQ         batch+72(FP), DX

q4kcf:
	VPXORD       Z18, Z18, Z18
	VPDPWSSD.BCST 0(DI), Z0, Z18
	VPDPWSSD.BCST 4(DI), Z1, Z18
	VPDPWSSD.BCST 8(DI), Z2, Z18
	VPDPWSSD.BCST 12(DI), Z3, Z18
	VPDPWSSD.BCST 16(DI), Z4, Z18
	VPDPWSSD.BCST 20(DI), Z5, Z18
	VPDPWSSD.BCST 24(DI), Z6, Z18
	VPDPWSSD.BCST 28(DI), Z7, Z18
	VCVTDQ2PS    Z18, Z18
	VCVTDQ2PS    (R9), Z19
	VMULPS.BCST  (BX), Z8, Z20
	VMULPS.BCST  (BX), Z9, Z23
	VMULPS       Z20, Z19, Z19
	VMULPS       Z23, Z18, Z18
	VSUBPS       Z18, Z19, Z19
	VADDPS       (R10), Z19, Z19
	VMOVUPS      Z19, (R10)
	ADDQ         R14, DI
	ADDQ         R12, BX
	ADDQ         $64, R9
	ADDQ         R13, R10
	DECQ         DX
	JNZ          q4kcf
	ADDQ         $144, SI
	INCQ         R8
	CMPQ         R8, nb+64(FP)
	JLT          q4ksb
	VMOVDQU32    vnniperm<>(SB), Z24
	MOVQ         out+80(FP), DI
	MOVQ         batch+72(FP), DX

q4kperm:
	VPERMD  (DI), Z24, Z9
	VMOVUPS Z9, (DI)
	ADDQ    R13, DI
	DECQ    DX
	JNZ     q4kperm
	VZEROUPPER
	RET

// func quantQ8KAVX512(x *float32, qs *int8, d *float32, bsums *int16, nb int)
// quantizeActQ8K for nb super-blocks of 256, bitwise: the value of largest
// magnitude (the first such), iscale = −127/max, q = min(127,
// nearestInt(iscale·x)) by ggml's magic-number rounding, sums of 16, and
// d = 1/iscale (all zero for an all-zero block).
TEXT ·quantQ8KAVX512(SB), NOSPLIT, $0-40
	MOVQ         x+0(FP), SI
	MOVQ         qs+8(FP), DI
	MOVQ         d+16(FP), DX
	MOVQ         bsums+24(FP), BX
	MOVQ         nb+32(FP), CX
	MOVL         $0x7FFFFFFF, AX
	VPBROADCASTD AX, Z31
	MOVL         $0x4B400000, AX     // 12582912.0
	VPBROADCASTD AX, Z18
	MOVL         $0x007FFFFF, AX
	VPBROADCASTD AX, Z19
	MOVL         $0x00400000, AX
	VPBROADCASTD AX, Z20
	MOVL         $127, AX
	VPBROADCASTD AX, Z21
	TESTQ        CX, CX
	JEQ          kqdone

kqblock:
	VMOVUPS      0(SI), Z0
	VMOVUPS      64(SI), Z1
	VMOVUPS      128(SI), Z2
	VMOVUPS      192(SI), Z3
	VMOVUPS      256(SI), Z4
	VMOVUPS      320(SI), Z5
	VMOVUPS      384(SI), Z6
	VMOVUPS      448(SI), Z7
	VMOVUPS      512(SI), Z8
	VMOVUPS      576(SI), Z9
	VMOVUPS      640(SI), Z10
	VMOVUPS      704(SI), Z11
	VMOVUPS      768(SI), Z12
	VMOVUPS      832(SI), Z13
	VMOVUPS      896(SI), Z14
	VMOVUPS      960(SI), Z15
	VANDPS       Z31, Z0, Z16
	VANDPS       Z31, Z1, Z17
	VMAXPS       Z17, Z16, Z16
	VANDPS       Z31, Z2, Z17
	VMAXPS       Z17, Z16, Z16
	VANDPS       Z31, Z3, Z17
	VMAXPS       Z17, Z16, Z16
	VANDPS       Z31, Z4, Z17
	VMAXPS       Z17, Z16, Z16
	VANDPS       Z31, Z5, Z17
	VMAXPS       Z17, Z16, Z16
	VANDPS       Z31, Z6, Z17
	VMAXPS       Z17, Z16, Z16
	VANDPS       Z31, Z7, Z17
	VMAXPS       Z17, Z16, Z16
	VANDPS       Z31, Z8, Z17
	VMAXPS       Z17, Z16, Z16
	VANDPS       Z31, Z9, Z17
	VMAXPS       Z17, Z16, Z16
	VANDPS       Z31, Z10, Z17
	VMAXPS       Z17, Z16, Z16
	VANDPS       Z31, Z11, Z17
	VMAXPS       Z17, Z16, Z16
	VANDPS       Z31, Z12, Z17
	VMAXPS       Z17, Z16, Z16
	VANDPS       Z31, Z13, Z17
	VMAXPS       Z17, Z16, Z16
	VANDPS       Z31, Z14, Z17
	VMAXPS       Z17, Z16, Z16
	VANDPS       Z31, Z15, Z17
	VMAXPS       Z17, Z16, Z16
	VEXTRACTF64X4 $1, Z16, Y17
	VMAXPS       Y17, Y16, Y16
	VEXTRACTF32X4 $1, Y16, X17
	VMAXPS       X17, X16, X16
	VPERMILPS    $0x4E, X16, X17
	VMAXPS       X17, X16, X16
	VPERMILPS    $0xB1, X16, X17
	VMAXPS       X17, X16, X16       // amax in every lane of X16
	VXORPS       X17, X17, X17
	VUCOMISS     X17, X16
	JEQ          kqzero
	VBROADCASTSS X16, Z16
	// The first element whose magnitude is amax.
	XORQ         R8, R8

kqfind:
	VANDPS       (SI)(R8*4), Z31, Z17
	VCMPPS       $0, Z16, Z17, K1
	KMOVW        K1, AX
	TESTL        AX, AX
	JNZ          kqfound
	ADDQ         $16, R8
	JMP          kqfind

kqfound:
	TZCNTL       AX, AX
	ADDQ         AX, R8
	MOVL         $0xC2FE0000, AX     // −127.0
	VMOVD        AX, X17
	VDIVSS       (SI)(R8*4), X17, X17  // iscale = −127/max
	MOVL         $0x3F800000, AX     // 1.0
	VMOVD        AX, X16
	VDIVSS       X17, X16, X16
	VMOVSS       X16, (DX)           // d = 1/iscale
	VBROADCASTSS X17, Z17
	VMULPS       Z17, Z0, Z0
	VADDPS       Z18, Z0, Z0
	VPANDD       Z19, Z0, Z0
	VPSUBD       Z20, Z0, Z0
	VPMINSD      Z21, Z0, Z0
	VPMOVSDB     Z0, X22
	VMOVDQU8     X22, 0(DI)
	VEXTRACTI64X4 $1, Z0, Y23
	VPADDD       Y23, Y0, Y23
	VEXTRACTI32X4 $1, Y23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0x4E, X23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0xB1, X23, X24
	VPADDD       X24, X23, X23
	VMOVD        X23, AX
	MOVW         AX, 0(BX)
	VMULPS       Z17, Z1, Z1
	VADDPS       Z18, Z1, Z1
	VPANDD       Z19, Z1, Z1
	VPSUBD       Z20, Z1, Z1
	VPMINSD      Z21, Z1, Z1
	VPMOVSDB     Z1, X22
	VMOVDQU8     X22, 16(DI)
	VEXTRACTI64X4 $1, Z1, Y23
	VPADDD       Y23, Y1, Y23
	VEXTRACTI32X4 $1, Y23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0x4E, X23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0xB1, X23, X24
	VPADDD       X24, X23, X23
	VMOVD        X23, AX
	MOVW         AX, 2(BX)
	VMULPS       Z17, Z2, Z2
	VADDPS       Z18, Z2, Z2
	VPANDD       Z19, Z2, Z2
	VPSUBD       Z20, Z2, Z2
	VPMINSD      Z21, Z2, Z2
	VPMOVSDB     Z2, X22
	VMOVDQU8     X22, 32(DI)
	VEXTRACTI64X4 $1, Z2, Y23
	VPADDD       Y23, Y2, Y23
	VEXTRACTI32X4 $1, Y23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0x4E, X23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0xB1, X23, X24
	VPADDD       X24, X23, X23
	VMOVD        X23, AX
	MOVW         AX, 4(BX)
	VMULPS       Z17, Z3, Z3
	VADDPS       Z18, Z3, Z3
	VPANDD       Z19, Z3, Z3
	VPSUBD       Z20, Z3, Z3
	VPMINSD      Z21, Z3, Z3
	VPMOVSDB     Z3, X22
	VMOVDQU8     X22, 48(DI)
	VEXTRACTI64X4 $1, Z3, Y23
	VPADDD       Y23, Y3, Y23
	VEXTRACTI32X4 $1, Y23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0x4E, X23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0xB1, X23, X24
	VPADDD       X24, X23, X23
	VMOVD        X23, AX
	MOVW         AX, 6(BX)
	VMULPS       Z17, Z4, Z4
	VADDPS       Z18, Z4, Z4
	VPANDD       Z19, Z4, Z4
	VPSUBD       Z20, Z4, Z4
	VPMINSD      Z21, Z4, Z4
	VPMOVSDB     Z4, X22
	VMOVDQU8     X22, 64(DI)
	VEXTRACTI64X4 $1, Z4, Y23
	VPADDD       Y23, Y4, Y23
	VEXTRACTI32X4 $1, Y23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0x4E, X23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0xB1, X23, X24
	VPADDD       X24, X23, X23
	VMOVD        X23, AX
	MOVW         AX, 8(BX)
	VMULPS       Z17, Z5, Z5
	VADDPS       Z18, Z5, Z5
	VPANDD       Z19, Z5, Z5
	VPSUBD       Z20, Z5, Z5
	VPMINSD      Z21, Z5, Z5
	VPMOVSDB     Z5, X22
	VMOVDQU8     X22, 80(DI)
	VEXTRACTI64X4 $1, Z5, Y23
	VPADDD       Y23, Y5, Y23
	VEXTRACTI32X4 $1, Y23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0x4E, X23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0xB1, X23, X24
	VPADDD       X24, X23, X23
	VMOVD        X23, AX
	MOVW         AX, 10(BX)
	VMULPS       Z17, Z6, Z6
	VADDPS       Z18, Z6, Z6
	VPANDD       Z19, Z6, Z6
	VPSUBD       Z20, Z6, Z6
	VPMINSD      Z21, Z6, Z6
	VPMOVSDB     Z6, X22
	VMOVDQU8     X22, 96(DI)
	VEXTRACTI64X4 $1, Z6, Y23
	VPADDD       Y23, Y6, Y23
	VEXTRACTI32X4 $1, Y23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0x4E, X23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0xB1, X23, X24
	VPADDD       X24, X23, X23
	VMOVD        X23, AX
	MOVW         AX, 12(BX)
	VMULPS       Z17, Z7, Z7
	VADDPS       Z18, Z7, Z7
	VPANDD       Z19, Z7, Z7
	VPSUBD       Z20, Z7, Z7
	VPMINSD      Z21, Z7, Z7
	VPMOVSDB     Z7, X22
	VMOVDQU8     X22, 112(DI)
	VEXTRACTI64X4 $1, Z7, Y23
	VPADDD       Y23, Y7, Y23
	VEXTRACTI32X4 $1, Y23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0x4E, X23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0xB1, X23, X24
	VPADDD       X24, X23, X23
	VMOVD        X23, AX
	MOVW         AX, 14(BX)
	VMULPS       Z17, Z8, Z8
	VADDPS       Z18, Z8, Z8
	VPANDD       Z19, Z8, Z8
	VPSUBD       Z20, Z8, Z8
	VPMINSD      Z21, Z8, Z8
	VPMOVSDB     Z8, X22
	VMOVDQU8     X22, 128(DI)
	VEXTRACTI64X4 $1, Z8, Y23
	VPADDD       Y23, Y8, Y23
	VEXTRACTI32X4 $1, Y23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0x4E, X23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0xB1, X23, X24
	VPADDD       X24, X23, X23
	VMOVD        X23, AX
	MOVW         AX, 16(BX)
	VMULPS       Z17, Z9, Z9
	VADDPS       Z18, Z9, Z9
	VPANDD       Z19, Z9, Z9
	VPSUBD       Z20, Z9, Z9
	VPMINSD      Z21, Z9, Z9
	VPMOVSDB     Z9, X22
	VMOVDQU8     X22, 144(DI)
	VEXTRACTI64X4 $1, Z9, Y23
	VPADDD       Y23, Y9, Y23
	VEXTRACTI32X4 $1, Y23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0x4E, X23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0xB1, X23, X24
	VPADDD       X24, X23, X23
	VMOVD        X23, AX
	MOVW         AX, 18(BX)
	VMULPS       Z17, Z10, Z10
	VADDPS       Z18, Z10, Z10
	VPANDD       Z19, Z10, Z10
	VPSUBD       Z20, Z10, Z10
	VPMINSD      Z21, Z10, Z10
	VPMOVSDB     Z10, X22
	VMOVDQU8     X22, 160(DI)
	VEXTRACTI64X4 $1, Z10, Y23
	VPADDD       Y23, Y10, Y23
	VEXTRACTI32X4 $1, Y23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0x4E, X23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0xB1, X23, X24
	VPADDD       X24, X23, X23
	VMOVD        X23, AX
	MOVW         AX, 20(BX)
	VMULPS       Z17, Z11, Z11
	VADDPS       Z18, Z11, Z11
	VPANDD       Z19, Z11, Z11
	VPSUBD       Z20, Z11, Z11
	VPMINSD      Z21, Z11, Z11
	VPMOVSDB     Z11, X22
	VMOVDQU8     X22, 176(DI)
	VEXTRACTI64X4 $1, Z11, Y23
	VPADDD       Y23, Y11, Y23
	VEXTRACTI32X4 $1, Y23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0x4E, X23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0xB1, X23, X24
	VPADDD       X24, X23, X23
	VMOVD        X23, AX
	MOVW         AX, 22(BX)
	VMULPS       Z17, Z12, Z12
	VADDPS       Z18, Z12, Z12
	VPANDD       Z19, Z12, Z12
	VPSUBD       Z20, Z12, Z12
	VPMINSD      Z21, Z12, Z12
	VPMOVSDB     Z12, X22
	VMOVDQU8     X22, 192(DI)
	VEXTRACTI64X4 $1, Z12, Y23
	VPADDD       Y23, Y12, Y23
	VEXTRACTI32X4 $1, Y23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0x4E, X23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0xB1, X23, X24
	VPADDD       X24, X23, X23
	VMOVD        X23, AX
	MOVW         AX, 24(BX)
	VMULPS       Z17, Z13, Z13
	VADDPS       Z18, Z13, Z13
	VPANDD       Z19, Z13, Z13
	VPSUBD       Z20, Z13, Z13
	VPMINSD      Z21, Z13, Z13
	VPMOVSDB     Z13, X22
	VMOVDQU8     X22, 208(DI)
	VEXTRACTI64X4 $1, Z13, Y23
	VPADDD       Y23, Y13, Y23
	VEXTRACTI32X4 $1, Y23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0x4E, X23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0xB1, X23, X24
	VPADDD       X24, X23, X23
	VMOVD        X23, AX
	MOVW         AX, 26(BX)
	VMULPS       Z17, Z14, Z14
	VADDPS       Z18, Z14, Z14
	VPANDD       Z19, Z14, Z14
	VPSUBD       Z20, Z14, Z14
	VPMINSD      Z21, Z14, Z14
	VPMOVSDB     Z14, X22
	VMOVDQU8     X22, 224(DI)
	VEXTRACTI64X4 $1, Z14, Y23
	VPADDD       Y23, Y14, Y23
	VEXTRACTI32X4 $1, Y23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0x4E, X23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0xB1, X23, X24
	VPADDD       X24, X23, X23
	VMOVD        X23, AX
	MOVW         AX, 28(BX)
	VMULPS       Z17, Z15, Z15
	VADDPS       Z18, Z15, Z15
	VPANDD       Z19, Z15, Z15
	VPSUBD       Z20, Z15, Z15
	VPMINSD      Z21, Z15, Z15
	VPMOVSDB     Z15, X22
	VMOVDQU8     X22, 240(DI)
	VEXTRACTI64X4 $1, Z15, Y23
	VPADDD       Y23, Y15, Y23
	VEXTRACTI32X4 $1, Y23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0x4E, X23, X24
	VPADDD       X24, X23, X23
	VPSHUFD      $0xB1, X23, X24
	VPADDD       X24, X23, X23
	VMOVD        X23, AX
	MOVW         AX, 30(BX)
	JMP          kqnext

kqzero:
	VPXORD       Z0, Z0, Z0
	VMOVDQU32    Z0, 0(DI)
	VMOVDQU32    Z0, 64(DI)
	VMOVDQU32    Z0, 128(DI)
	VMOVDQU32    Z0, 192(DI)
	VMOVDQU      Y0, (BX)
	VMOVSS       X0, (DX)

kqnext:
	ADDQ         $1024, SI
	ADDQ         $256, DI
	ADDQ         $4, DX
	ADDQ         $32, BX
	DECQ         CX
	JNZ          kqblock

kqdone:
	VZEROUPPER
	RET

// Q6_K tile kernel. Frame: 0..4095 per-column integer sums Σ sc·Σu·q8 (u =
// q+32, 0..63), 4096 the sixteen scales per row (int32), 5120 the scales
// as int16 pairs (sc[2p], sc[2p+1]), 5632 d per row (float32), 5696 the
// gather offsets. Lane order π.

// func q6kTileVNNI(w *byte, rb int, xq *int8, xstride int, xd *float32, dstride int, bsums *int16, bstride int, nb int, batch int, out *float32, ostride int)
// As q4kTileVNNI for Q6_K rows (super-blocks of 210 bytes). The 6-bit
// quants u = q+32 go through VPDPBUSD per 16-element sub-block, times the
// scale by VPMULLD; the bias 32·Σ_s sc_s·Σq8 comes from VPDPWSSD on the
// Q8_K sums: isum = Σ_s sc_s·Σu·q8 − 32·Σ_s sc_s·bsum_s, exactly
// dotQ6KGo's integer, combined as it does.
TEXT ·q6kTileVNNI(SB), 0, $5760-96
	MOVQ         rb+8(FP), AX
	VPBROADCASTD AX, Z21
	VPMULLD      vnniperm<>(SB), Z21, Z21
	VMOVDQU32    Z21, 5696(SP)
	MOVL         $0x0F0F0F0F, DX
	VPBROADCASTD DX, Z30
	MOVL         $0x03030303, DX
	VPBROADCASTD DX, Z31
	MOVL         $0xFFFF, DX
	VPBROADCASTD DX, Z29
	MOVQ         xstride+24(FP), R11
	MOVQ         ostride+88(FP), R13
	SHLQ         $2, R13
	VPXORD       Z9, Z9, Z9
	MOVQ         out+80(FP), DI
	MOVQ         batch+72(FP), DX

q6kzero:
	VMOVUPS Z9, (DI)
	ADDQ    R13, DI
	DECQ    DX
	JNZ     q6kzero
	MOVQ    w+0(FP), SI
	XORQ    R8, R8

q6ksb:
	VMOVDQU32    5696(SP), Z21
	// d (the high half of the dword at 206, staying inside the block).
	KXNORW       K0, K0, K1
	VPGATHERDD   206(SI)(Z21*1), K1, Z28
	VPSRLD       $16, Z28, Z28
	VPMOVDW      Z28, Y28
	VCVTPH2PS    Y28, Z28
	VMOVUPS      Z28, 5632(SP)
	// The sixteen int8 scales, sign-extended, and as int16 pairs.
	KXNORW       K0, K0, K1
	VPGATHERDD   192(SI)(Z21*1), K1, Z24
	KXNORW       K0, K0, K1
	VPGATHERDD   196(SI)(Z21*1), K1, Z25
	KXNORW       K0, K0, K1
	VPGATHERDD   200(SI)(Z21*1), K1, Z26
	KXNORW       K0, K0, K1
	VPGATHERDD   204(SI)(Z21*1), K1, Z27
	VPSLLD       $24, Z24, Z28
	VPSRAD       $24, Z28, Z0
	VMOVDQU32    Z0, 4096(SP)
	VPSLLD       $16, Z24, Z28
	VPSRAD       $24, Z28, Z1
	VMOVDQU32    Z1, 4160(SP)
	VPSLLD       $8, Z24, Z28
	VPSRAD       $24, Z28, Z2
	VMOVDQU32    Z2, 4224(SP)
	VPSLLD       $0, Z24, Z28
	VPSRAD       $24, Z28, Z3
	VMOVDQU32    Z3, 4288(SP)
	VPSLLD       $24, Z25, Z28
	VPSRAD       $24, Z28, Z4
	VMOVDQU32    Z4, 4352(SP)
	VPSLLD       $16, Z25, Z28
	VPSRAD       $24, Z28, Z5
	VMOVDQU32    Z5, 4416(SP)
	VPSLLD       $8, Z25, Z28
	VPSRAD       $24, Z28, Z6
	VMOVDQU32    Z6, 4480(SP)
	VPSLLD       $0, Z25, Z28
	VPSRAD       $24, Z28, Z7
	VMOVDQU32    Z7, 4544(SP)
	VPSLLD       $24, Z26, Z28
	VPSRAD       $24, Z28, Z10
	VMOVDQU32    Z10, 4608(SP)
	VPSLLD       $16, Z26, Z28
	VPSRAD       $24, Z28, Z11
	VMOVDQU32    Z11, 4672(SP)
	VPSLLD       $8, Z26, Z28
	VPSRAD       $24, Z28, Z12
	VMOVDQU32    Z12, 4736(SP)
	VPSLLD       $0, Z26, Z28
	VPSRAD       $24, Z28, Z13
	VMOVDQU32    Z13, 4800(SP)
	VPSLLD       $24, Z27, Z28
	VPSRAD       $24, Z28, Z14
	VMOVDQU32    Z14, 4864(SP)
	VPSLLD       $16, Z27, Z28
	VPSRAD       $24, Z28, Z15
	VMOVDQU32    Z15, 4928(SP)
	VPSLLD       $8, Z27, Z28
	VPSRAD       $24, Z28, Z16
	VMOVDQU32    Z16, 4992(SP)
	VPSLLD       $0, Z27, Z28
	VPSRAD       $24, Z28, Z17
	VMOVDQU32    Z17, 5056(SP)
	VPANDD       Z29, Z0, Z28
	VPSLLD       $16, Z1, Z20
	VPORD        Z20, Z28, Z28
	VMOVDQU32    Z28, 5120(SP)
	VPANDD       Z29, Z2, Z28
	VPSLLD       $16, Z3, Z20
	VPORD        Z20, Z28, Z28
	VMOVDQU32    Z28, 5184(SP)
	VPANDD       Z29, Z4, Z28
	VPSLLD       $16, Z5, Z20
	VPORD        Z20, Z28, Z28
	VMOVDQU32    Z28, 5248(SP)
	VPANDD       Z29, Z6, Z28
	VPSLLD       $16, Z7, Z20
	VPORD        Z20, Z28, Z28
	VMOVDQU32    Z28, 5312(SP)
	VPANDD       Z29, Z10, Z28
	VPSLLD       $16, Z11, Z20
	VPORD        Z20, Z28, Z28
	VMOVDQU32    Z28, 5376(SP)
	VPANDD       Z29, Z12, Z28
	VPSLLD       $16, Z13, Z20
	VPORD        Z20, Z28, Z28
	VMOVDQU32    Z28, 5440(SP)
	VPANDD       Z29, Z14, Z28
	VPSLLD       $16, Z15, Z20
	VPORD        Z20, Z28, Z28
	VMOVDQU32    Z28, 5504(SP)
	VPANDD       Z29, Z16, Z28
	VPSLLD       $16, Z17, Z20
	VPORD        Z20, Z28, Z28
	VMOVDQU32    Z28, 5568(SP)
	VPXORD       Z9, Z9, Z9
	LEAQ         0(SP), DI
	MOVQ         batch+72(FP), DX

q6kzq:
	VMOVDQU32 Z9, (DI)
	ADDQ      $64, DI
	DECQ      DX
	JNZ       q6kzq
	MOVQ      rb+8(FP), AX
	// Elements 0..127: ql[0..31] with qh[0..31] give q1 and q3.
	ROWPTRS
	VMOVDQU      128(SI), Y0
	VINSERTI64X4 $1, 128(DI), Z0, Z0
	VMOVDQU      128(SI)(AX*1), Y1
	VINSERTI64X4 $1, 128(DI)(AX*1), Z1, Z1
	VMOVDQU      128(SI)(AX*2), Y2
	VINSERTI64X4 $1, 128(DI)(AX*2), Z2, Z2
	VMOVDQU      128(SI)(BX*1), Y3
	VINSERTI64X4 $1, 128(DI)(BX*1), Z3, Z3
	VMOVDQU      128(R9), Y4
	VINSERTI64X4 $1, 128(R10), Z4, Z4
	VMOVDQU      128(R9)(AX*1), Y5
	VINSERTI64X4 $1, 128(R10)(AX*1), Z5, Z5
	VMOVDQU      128(R9)(AX*2), Y6
	VINSERTI64X4 $1, 128(R10)(AX*2), Z6, Z6
	VMOVDQU      128(R9)(BX*1), Y7
	VINSERTI64X4 $1, 128(R10)(BX*1), Z7, Z7
	TRANSPOSE
	VMOVDQA64    Z10, Z18
	VMOVDQA64    Z11, Z19
	VMOVDQA64    Z12, Z20
	VMOVDQA64    Z13, Z21
	VMOVDQA64    Z14, Z22
	VMOVDQA64    Z15, Z23
	VMOVDQA64    Z16, Z24
	VMOVDQA64    Z17, Z25
	MOVQ         rb+8(FP), AX
	ROWPTRS
	VMOVDQU      0(SI), Y0
	VINSERTI64X4 $1, 0(DI), Z0, Z0
	VMOVDQU      0(SI)(AX*1), Y1
	VINSERTI64X4 $1, 0(DI)(AX*1), Z1, Z1
	VMOVDQU      0(SI)(AX*2), Y2
	VINSERTI64X4 $1, 0(DI)(AX*2), Z2, Z2
	VMOVDQU      0(SI)(BX*1), Y3
	VINSERTI64X4 $1, 0(DI)(BX*1), Z3, Z3
	VMOVDQU      0(R9), Y4
	VINSERTI64X4 $1, 0(R10), Z4, Z4
	VMOVDQU      0(R9)(AX*1), Y5
	VINSERTI64X4 $1, 0(R10)(AX*1), Z5, Z5
	VMOVDQU      0(R9)(AX*2), Y6
	VINSERTI64X4 $1, 0(R10)(AX*2), Z6, Z6
	VMOVDQU      0(R9)(BX*1), Y7
	VINSERTI64X4 $1, 0(R10)(BX*1), Z7, Z7
	TRANSPOSE
	VPANDD       Z31, Z18, Z0
	VPSLLD       $4, Z0, Z0
	VPTERNLOGD   $0xF8, Z30, Z10, Z0
	VPANDD       Z31, Z19, Z1
	VPSLLD       $4, Z1, Z1
	VPTERNLOGD   $0xF8, Z30, Z11, Z1
	VPANDD       Z31, Z20, Z2
	VPSLLD       $4, Z2, Z2
	VPTERNLOGD   $0xF8, Z30, Z12, Z2
	VPANDD       Z31, Z21, Z3
	VPSLLD       $4, Z3, Z3
	VPTERNLOGD   $0xF8, Z30, Z13, Z3
	VPANDD       Z31, Z22, Z4
	VPSLLD       $4, Z4, Z4
	VPTERNLOGD   $0xF8, Z30, Z14, Z4
	VPANDD       Z31, Z23, Z5
	VPSLLD       $4, Z5, Z5
	VPTERNLOGD   $0xF8, Z30, Z15, Z5
	VPANDD       Z31, Z24, Z6
	VPSLLD       $4, Z6, Z6
	VPTERNLOGD   $0xF8, Z30, Z16, Z6
	VPANDD       Z31, Z25, Z7
	VPSLLD       $4, Z7, Z7
	VPTERNLOGD   $0xF8, Z30, Z17, Z7
	VPSRLD       $4, Z10, Z10
	VPANDD       Z30, Z10, Z10
	VPSRLD       $4, Z18, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z10, Z10
	VPSRLD       $4, Z11, Z11
	VPANDD       Z30, Z11, Z11
	VPSRLD       $4, Z19, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z11, Z11
	VPSRLD       $4, Z12, Z12
	VPANDD       Z30, Z12, Z12
	VPSRLD       $4, Z20, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z12, Z12
	VPSRLD       $4, Z13, Z13
	VPANDD       Z30, Z13, Z13
	VPSRLD       $4, Z21, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z13, Z13
	VPSRLD       $4, Z14, Z14
	VPANDD       Z30, Z14, Z14
	VPSRLD       $4, Z22, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z14, Z14
	VPSRLD       $4, Z15, Z15
	VPANDD       Z30, Z15, Z15
	VPSRLD       $4, Z23, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z15, Z15
	VPSRLD       $4, Z16, Z16
	VPANDD       Z30, Z16, Z16
	VPSRLD       $4, Z24, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z16, Z16
	VPSRLD       $4, Z17, Z17
	VPANDD       Z30, Z17, Z17
	VPSRLD       $4, Z25, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z17, Z17
	MOVQ         R8, DI
	SHLQ         $8, DI
	ADDQ         xq+16(FP), DI
	LEAQ         0(SP), R9
	MOVQ         batch+72(FP), DX

q6kc0a:
	VPXORD       Z26, Z26, Z26
	VPXORD       Z27, Z27, Z27
	VPXORD       Z8, Z8, Z8
	VPXORD       Z9, Z9, Z9
	VPDPBUSD.BCST 0(DI), Z0, Z26
	VPDPBUSD.BCST 4(DI), Z1, Z26
	VPDPBUSD.BCST 8(DI), Z2, Z26
	VPDPBUSD.BCST 12(DI), Z3, Z26
	VPDPBUSD.BCST 16(DI), Z4, Z27
	VPDPBUSD.BCST 20(DI), Z5, Z27
	VPDPBUSD.BCST 24(DI), Z6, Z27
	VPDPBUSD.BCST 28(DI), Z7, Z27
	VPDPBUSD.BCST 64(DI), Z10, Z8
	VPDPBUSD.BCST 68(DI), Z11, Z8
	VPDPBUSD.BCST 72(DI), Z12, Z8
	VPDPBUSD.BCST 76(DI), Z13, Z8
	VPDPBUSD.BCST 80(DI), Z14, Z9
	VPDPBUSD.BCST 84(DI), Z15, Z9
	VPDPBUSD.BCST 88(DI), Z16, Z9
	VPDPBUSD.BCST 92(DI), Z17, Z9
	VPMULLD      4096(SP), Z26, Z26
	VPMULLD      4160(SP), Z27, Z27
	VPMULLD      4352(SP), Z8, Z8
	VPMULLD      4416(SP), Z9, Z9
	VPADDD       Z27, Z26, Z26
	VPADDD       Z9, Z8, Z8
	VPADDD       Z8, Z26, Z26
	VPADDD       (R9), Z26, Z26
	VMOVDQU32    Z26, (R9)
	ADDQ         R11, DI
	ADDQ         $64, R9
	DECQ         DX
	JNZ          q6kc0a
	// ql[32..63] with qh give q2 and q4.
	MOVQ         rb+8(FP), AX
	ROWPTRS
	VMOVDQU      32(SI), Y0
	VINSERTI64X4 $1, 32(DI), Z0, Z0
	VMOVDQU      32(SI)(AX*1), Y1
	VINSERTI64X4 $1, 32(DI)(AX*1), Z1, Z1
	VMOVDQU      32(SI)(AX*2), Y2
	VINSERTI64X4 $1, 32(DI)(AX*2), Z2, Z2
	VMOVDQU      32(SI)(BX*1), Y3
	VINSERTI64X4 $1, 32(DI)(BX*1), Z3, Z3
	VMOVDQU      32(R9), Y4
	VINSERTI64X4 $1, 32(R10), Z4, Z4
	VMOVDQU      32(R9)(AX*1), Y5
	VINSERTI64X4 $1, 32(R10)(AX*1), Z5, Z5
	VMOVDQU      32(R9)(AX*2), Y6
	VINSERTI64X4 $1, 32(R10)(AX*2), Z6, Z6
	VMOVDQU      32(R9)(BX*1), Y7
	VINSERTI64X4 $1, 32(R10)(BX*1), Z7, Z7
	TRANSPOSE
	VPSRLD       $2, Z18, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPANDD       Z30, Z10, Z0
	VPORD        Z8, Z0, Z0
	VPSRLD       $2, Z19, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPANDD       Z30, Z11, Z1
	VPORD        Z8, Z1, Z1
	VPSRLD       $2, Z20, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPANDD       Z30, Z12, Z2
	VPORD        Z8, Z2, Z2
	VPSRLD       $2, Z21, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPANDD       Z30, Z13, Z3
	VPORD        Z8, Z3, Z3
	VPSRLD       $2, Z22, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPANDD       Z30, Z14, Z4
	VPORD        Z8, Z4, Z4
	VPSRLD       $2, Z23, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPANDD       Z30, Z15, Z5
	VPORD        Z8, Z5, Z5
	VPSRLD       $2, Z24, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPANDD       Z30, Z16, Z6
	VPORD        Z8, Z6, Z6
	VPSRLD       $2, Z25, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPANDD       Z30, Z17, Z7
	VPORD        Z8, Z7, Z7
	VPSRLD       $4, Z10, Z10
	VPANDD       Z30, Z10, Z10
	VPSRLD       $6, Z18, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z10, Z10
	VPSRLD       $4, Z11, Z11
	VPANDD       Z30, Z11, Z11
	VPSRLD       $6, Z19, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z11, Z11
	VPSRLD       $4, Z12, Z12
	VPANDD       Z30, Z12, Z12
	VPSRLD       $6, Z20, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z12, Z12
	VPSRLD       $4, Z13, Z13
	VPANDD       Z30, Z13, Z13
	VPSRLD       $6, Z21, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z13, Z13
	VPSRLD       $4, Z14, Z14
	VPANDD       Z30, Z14, Z14
	VPSRLD       $6, Z22, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z14, Z14
	VPSRLD       $4, Z15, Z15
	VPANDD       Z30, Z15, Z15
	VPSRLD       $6, Z23, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z15, Z15
	VPSRLD       $4, Z16, Z16
	VPANDD       Z30, Z16, Z16
	VPSRLD       $6, Z24, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z16, Z16
	VPSRLD       $4, Z17, Z17
	VPANDD       Z30, Z17, Z17
	VPSRLD       $6, Z25, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z17, Z17
	MOVQ         R8, DI
	SHLQ         $8, DI
	ADDQ         xq+16(FP), DI
	LEAQ         0(SP), R9
	MOVQ         batch+72(FP), DX

q6kc0b:
	VPXORD       Z26, Z26, Z26
	VPXORD       Z27, Z27, Z27
	VPXORD       Z8, Z8, Z8
	VPXORD       Z9, Z9, Z9
	VPDPBUSD.BCST 32(DI), Z0, Z26
	VPDPBUSD.BCST 36(DI), Z1, Z26
	VPDPBUSD.BCST 40(DI), Z2, Z26
	VPDPBUSD.BCST 44(DI), Z3, Z26
	VPDPBUSD.BCST 48(DI), Z4, Z27
	VPDPBUSD.BCST 52(DI), Z5, Z27
	VPDPBUSD.BCST 56(DI), Z6, Z27
	VPDPBUSD.BCST 60(DI), Z7, Z27
	VPDPBUSD.BCST 96(DI), Z10, Z8
	VPDPBUSD.BCST 100(DI), Z11, Z8
	VPDPBUSD.BCST 104(DI), Z12, Z8
	VPDPBUSD.BCST 108(DI), Z13, Z8
	VPDPBUSD.BCST 112(DI), Z14, Z9
	VPDPBUSD.BCST 116(DI), Z15, Z9
	VPDPBUSD.BCST 120(DI), Z16, Z9
	VPDPBUSD.BCST 124(DI), Z17, Z9
	VPMULLD      4224(SP), Z26, Z26
	VPMULLD      4288(SP), Z27, Z27
	VPMULLD      4480(SP), Z8, Z8
	VPMULLD      4544(SP), Z9, Z9
	VPADDD       Z27, Z26, Z26
	VPADDD       Z9, Z8, Z8
	VPADDD       Z8, Z26, Z26
	VPADDD       (R9), Z26, Z26
	VMOVDQU32    Z26, (R9)
	ADDQ         R11, DI
	ADDQ         $64, R9
	DECQ         DX
	JNZ          q6kc0b
	MOVQ         rb+8(FP), AX
	// Elements 128..255: ql[64..95] with qh[32..63] give q1 and q3.
	ROWPTRS
	VMOVDQU      160(SI), Y0
	VINSERTI64X4 $1, 160(DI), Z0, Z0
	VMOVDQU      160(SI)(AX*1), Y1
	VINSERTI64X4 $1, 160(DI)(AX*1), Z1, Z1
	VMOVDQU      160(SI)(AX*2), Y2
	VINSERTI64X4 $1, 160(DI)(AX*2), Z2, Z2
	VMOVDQU      160(SI)(BX*1), Y3
	VINSERTI64X4 $1, 160(DI)(BX*1), Z3, Z3
	VMOVDQU      160(R9), Y4
	VINSERTI64X4 $1, 160(R10), Z4, Z4
	VMOVDQU      160(R9)(AX*1), Y5
	VINSERTI64X4 $1, 160(R10)(AX*1), Z5, Z5
	VMOVDQU      160(R9)(AX*2), Y6
	VINSERTI64X4 $1, 160(R10)(AX*2), Z6, Z6
	VMOVDQU      160(R9)(BX*1), Y7
	VINSERTI64X4 $1, 160(R10)(BX*1), Z7, Z7
	TRANSPOSE
	VMOVDQA64    Z10, Z18
	VMOVDQA64    Z11, Z19
	VMOVDQA64    Z12, Z20
	VMOVDQA64    Z13, Z21
	VMOVDQA64    Z14, Z22
	VMOVDQA64    Z15, Z23
	VMOVDQA64    Z16, Z24
	VMOVDQA64    Z17, Z25
	MOVQ         rb+8(FP), AX
	ROWPTRS
	VMOVDQU      64(SI), Y0
	VINSERTI64X4 $1, 64(DI), Z0, Z0
	VMOVDQU      64(SI)(AX*1), Y1
	VINSERTI64X4 $1, 64(DI)(AX*1), Z1, Z1
	VMOVDQU      64(SI)(AX*2), Y2
	VINSERTI64X4 $1, 64(DI)(AX*2), Z2, Z2
	VMOVDQU      64(SI)(BX*1), Y3
	VINSERTI64X4 $1, 64(DI)(BX*1), Z3, Z3
	VMOVDQU      64(R9), Y4
	VINSERTI64X4 $1, 64(R10), Z4, Z4
	VMOVDQU      64(R9)(AX*1), Y5
	VINSERTI64X4 $1, 64(R10)(AX*1), Z5, Z5
	VMOVDQU      64(R9)(AX*2), Y6
	VINSERTI64X4 $1, 64(R10)(AX*2), Z6, Z6
	VMOVDQU      64(R9)(BX*1), Y7
	VINSERTI64X4 $1, 64(R10)(BX*1), Z7, Z7
	TRANSPOSE
	VPANDD       Z31, Z18, Z0
	VPSLLD       $4, Z0, Z0
	VPTERNLOGD   $0xF8, Z30, Z10, Z0
	VPANDD       Z31, Z19, Z1
	VPSLLD       $4, Z1, Z1
	VPTERNLOGD   $0xF8, Z30, Z11, Z1
	VPANDD       Z31, Z20, Z2
	VPSLLD       $4, Z2, Z2
	VPTERNLOGD   $0xF8, Z30, Z12, Z2
	VPANDD       Z31, Z21, Z3
	VPSLLD       $4, Z3, Z3
	VPTERNLOGD   $0xF8, Z30, Z13, Z3
	VPANDD       Z31, Z22, Z4
	VPSLLD       $4, Z4, Z4
	VPTERNLOGD   $0xF8, Z30, Z14, Z4
	VPANDD       Z31, Z23, Z5
	VPSLLD       $4, Z5, Z5
	VPTERNLOGD   $0xF8, Z30, Z15, Z5
	VPANDD       Z31, Z24, Z6
	VPSLLD       $4, Z6, Z6
	VPTERNLOGD   $0xF8, Z30, Z16, Z6
	VPANDD       Z31, Z25, Z7
	VPSLLD       $4, Z7, Z7
	VPTERNLOGD   $0xF8, Z30, Z17, Z7
	VPSRLD       $4, Z10, Z10
	VPANDD       Z30, Z10, Z10
	VPSRLD       $4, Z18, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z10, Z10
	VPSRLD       $4, Z11, Z11
	VPANDD       Z30, Z11, Z11
	VPSRLD       $4, Z19, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z11, Z11
	VPSRLD       $4, Z12, Z12
	VPANDD       Z30, Z12, Z12
	VPSRLD       $4, Z20, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z12, Z12
	VPSRLD       $4, Z13, Z13
	VPANDD       Z30, Z13, Z13
	VPSRLD       $4, Z21, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z13, Z13
	VPSRLD       $4, Z14, Z14
	VPANDD       Z30, Z14, Z14
	VPSRLD       $4, Z22, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z14, Z14
	VPSRLD       $4, Z15, Z15
	VPANDD       Z30, Z15, Z15
	VPSRLD       $4, Z23, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z15, Z15
	VPSRLD       $4, Z16, Z16
	VPANDD       Z30, Z16, Z16
	VPSRLD       $4, Z24, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z16, Z16
	VPSRLD       $4, Z17, Z17
	VPANDD       Z30, Z17, Z17
	VPSRLD       $4, Z25, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z17, Z17
	MOVQ         R8, DI
	SHLQ         $8, DI
	ADDQ         xq+16(FP), DI
	LEAQ         0(SP), R9
	MOVQ         batch+72(FP), DX

q6kc1a:
	VPXORD       Z26, Z26, Z26
	VPXORD       Z27, Z27, Z27
	VPXORD       Z8, Z8, Z8
	VPXORD       Z9, Z9, Z9
	VPDPBUSD.BCST 128(DI), Z0, Z26
	VPDPBUSD.BCST 132(DI), Z1, Z26
	VPDPBUSD.BCST 136(DI), Z2, Z26
	VPDPBUSD.BCST 140(DI), Z3, Z26
	VPDPBUSD.BCST 144(DI), Z4, Z27
	VPDPBUSD.BCST 148(DI), Z5, Z27
	VPDPBUSD.BCST 152(DI), Z6, Z27
	VPDPBUSD.BCST 156(DI), Z7, Z27
	VPDPBUSD.BCST 192(DI), Z10, Z8
	VPDPBUSD.BCST 196(DI), Z11, Z8
	VPDPBUSD.BCST 200(DI), Z12, Z8
	VPDPBUSD.BCST 204(DI), Z13, Z8
	VPDPBUSD.BCST 208(DI), Z14, Z9
	VPDPBUSD.BCST 212(DI), Z15, Z9
	VPDPBUSD.BCST 216(DI), Z16, Z9
	VPDPBUSD.BCST 220(DI), Z17, Z9
	VPMULLD      4608(SP), Z26, Z26
	VPMULLD      4672(SP), Z27, Z27
	VPMULLD      4864(SP), Z8, Z8
	VPMULLD      4928(SP), Z9, Z9
	VPADDD       Z27, Z26, Z26
	VPADDD       Z9, Z8, Z8
	VPADDD       Z8, Z26, Z26
	VPADDD       (R9), Z26, Z26
	VMOVDQU32    Z26, (R9)
	ADDQ         R11, DI
	ADDQ         $64, R9
	DECQ         DX
	JNZ          q6kc1a
	// ql[96..127] with qh give q2 and q4.
	MOVQ         rb+8(FP), AX
	ROWPTRS
	VMOVDQU      96(SI), Y0
	VINSERTI64X4 $1, 96(DI), Z0, Z0
	VMOVDQU      96(SI)(AX*1), Y1
	VINSERTI64X4 $1, 96(DI)(AX*1), Z1, Z1
	VMOVDQU      96(SI)(AX*2), Y2
	VINSERTI64X4 $1, 96(DI)(AX*2), Z2, Z2
	VMOVDQU      96(SI)(BX*1), Y3
	VINSERTI64X4 $1, 96(DI)(BX*1), Z3, Z3
	VMOVDQU      96(R9), Y4
	VINSERTI64X4 $1, 96(R10), Z4, Z4
	VMOVDQU      96(R9)(AX*1), Y5
	VINSERTI64X4 $1, 96(R10)(AX*1), Z5, Z5
	VMOVDQU      96(R9)(AX*2), Y6
	VINSERTI64X4 $1, 96(R10)(AX*2), Z6, Z6
	VMOVDQU      96(R9)(BX*1), Y7
	VINSERTI64X4 $1, 96(R10)(BX*1), Z7, Z7
	TRANSPOSE
	VPSRLD       $2, Z18, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPANDD       Z30, Z10, Z0
	VPORD        Z8, Z0, Z0
	VPSRLD       $2, Z19, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPANDD       Z30, Z11, Z1
	VPORD        Z8, Z1, Z1
	VPSRLD       $2, Z20, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPANDD       Z30, Z12, Z2
	VPORD        Z8, Z2, Z2
	VPSRLD       $2, Z21, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPANDD       Z30, Z13, Z3
	VPORD        Z8, Z3, Z3
	VPSRLD       $2, Z22, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPANDD       Z30, Z14, Z4
	VPORD        Z8, Z4, Z4
	VPSRLD       $2, Z23, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPANDD       Z30, Z15, Z5
	VPORD        Z8, Z5, Z5
	VPSRLD       $2, Z24, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPANDD       Z30, Z16, Z6
	VPORD        Z8, Z6, Z6
	VPSRLD       $2, Z25, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPANDD       Z30, Z17, Z7
	VPORD        Z8, Z7, Z7
	VPSRLD       $4, Z10, Z10
	VPANDD       Z30, Z10, Z10
	VPSRLD       $6, Z18, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z10, Z10
	VPSRLD       $4, Z11, Z11
	VPANDD       Z30, Z11, Z11
	VPSRLD       $6, Z19, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z11, Z11
	VPSRLD       $4, Z12, Z12
	VPANDD       Z30, Z12, Z12
	VPSRLD       $6, Z20, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z12, Z12
	VPSRLD       $4, Z13, Z13
	VPANDD       Z30, Z13, Z13
	VPSRLD       $6, Z21, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z13, Z13
	VPSRLD       $4, Z14, Z14
	VPANDD       Z30, Z14, Z14
	VPSRLD       $6, Z22, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z14, Z14
	VPSRLD       $4, Z15, Z15
	VPANDD       Z30, Z15, Z15
	VPSRLD       $6, Z23, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z15, Z15
	VPSRLD       $4, Z16, Z16
	VPANDD       Z30, Z16, Z16
	VPSRLD       $6, Z24, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z16, Z16
	VPSRLD       $4, Z17, Z17
	VPANDD       Z30, Z17, Z17
	VPSRLD       $6, Z25, Z8
	VPANDD       Z31, Z8, Z8
	VPSLLD       $4, Z8, Z8
	VPORD        Z8, Z17, Z17
	MOVQ         R8, DI
	SHLQ         $8, DI
	ADDQ         xq+16(FP), DI
	LEAQ         0(SP), R9
	MOVQ         batch+72(FP), DX

q6kc1b:
	VPXORD       Z26, Z26, Z26
	VPXORD       Z27, Z27, Z27
	VPXORD       Z8, Z8, Z8
	VPXORD       Z9, Z9, Z9
	VPDPBUSD.BCST 160(DI), Z0, Z26
	VPDPBUSD.BCST 164(DI), Z1, Z26
	VPDPBUSD.BCST 168(DI), Z2, Z26
	VPDPBUSD.BCST 172(DI), Z3, Z26
	VPDPBUSD.BCST 176(DI), Z4, Z27
	VPDPBUSD.BCST 180(DI), Z5, Z27
	VPDPBUSD.BCST 184(DI), Z6, Z27
	VPDPBUSD.BCST 188(DI), Z7, Z27
	VPDPBUSD.BCST 224(DI), Z10, Z8
	VPDPBUSD.BCST 228(DI), Z11, Z8
	VPDPBUSD.BCST 232(DI), Z12, Z8
	VPDPBUSD.BCST 236(DI), Z13, Z8
	VPDPBUSD.BCST 240(DI), Z14, Z9
	VPDPBUSD.BCST 244(DI), Z15, Z9
	VPDPBUSD.BCST 248(DI), Z16, Z9
	VPDPBUSD.BCST 252(DI), Z17, Z9
	VPMULLD      4736(SP), Z26, Z26
	VPMULLD      4800(SP), Z27, Z27
	VPMULLD      4992(SP), Z8, Z8
	VPMULLD      5056(SP), Z9, Z9
	VPADDD       Z27, Z26, Z26
	VPADDD       Z9, Z8, Z8
	VPADDD       Z8, Z26, Z26
	VPADDD       (R9), Z26, Z26
	VMOVDQU32    Z26, (R9)
	ADDQ         R11, DI
	ADDQ         $64, R9
	DECQ         DX
	JNZ          q6kc1b
	MOVQ         rb+8(FP), AX
	// isum = S − 32·Σ sc·bsum, and the float combination per column.
	VMOVDQU32    5120(SP), Z0
	VMOVDQU32    5184(SP), Z1
	VMOVDQU32    5248(SP), Z2
	VMOVDQU32    5312(SP), Z3
	VMOVDQU32    5376(SP), Z4
	VMOVDQU32    5440(SP), Z5
	VMOVDQU32    5504(SP), Z6
	VMOVDQU32    5568(SP), Z7
	VMOVUPS      5632(SP), Z8
	MOVQ         R8, DI
	SHLQ         $5, DI
	ADDQ         bsums+48(FP), DI
	MOVQ         xd+32(FP), BX
	LEAQ         (BX)(R8*4), BX
	LEAQ         0(SP), R9
	MOVQ         out+80(FP), R10
	MOVQ         dstride+40(FP), R12
	SHLQ         $2, R12
	MOVQ         bstride+56(FP), R14
	SHLQ         $1, R14
	MOVQ         batch+72(FP), DX

q6kcf:
	VPXORD       Z18, Z18, Z18
	VPDPWSSD.BCST 0(DI), Z0, Z18
	VPDPWSSD.BCST 4(DI), Z1, Z18
	VPDPWSSD.BCST 8(DI), Z2, Z18
	VPDPWSSD.BCST 12(DI), Z3, Z18
	VPDPWSSD.BCST 16(DI), Z4, Z18
	VPDPWSSD.BCST 20(DI), Z5, Z18
	VPDPWSSD.BCST 24(DI), Z6, Z18
	VPDPWSSD.BCST 28(DI), Z7, Z18
	VPSLLD       $5, Z18, Z18
	VMOVDQU32    (R9), Z19
	VPSUBD       Z18, Z19, Z19
	VCVTDQ2PS    Z19, Z19
	VMULPS.BCST  (BX), Z8, Z20
	VMULPS       Z19, Z20, Z19
	VADDPS       (R10), Z19, Z19
	VMOVUPS      Z19, (R10)
	ADDQ         R14, DI
	ADDQ         R12, BX
	ADDQ         $64, R9
	ADDQ         R13, R10
	DECQ         DX
	JNZ          q6kcf
	ADDQ         $210, SI
	INCQ         R8
	CMPQ         R8, nb+64(FP)
	JLT          q6ksb
	VMOVDQU32    vnniperm<>(SB), Z24
	MOVQ         out+80(FP), DI
	MOVQ         batch+72(FP), DX

q6kperm:
	VPERMD  (DI), Z24, Z9
	VMOVUPS Z9, (DI)
	ADDQ    R13, DI
	DECQ    DX
	JNZ     q6kperm
	VZEROUPPER
	RET
