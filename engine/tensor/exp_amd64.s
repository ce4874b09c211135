//go:build !purego

#include "textflag.h"

// Vector forms of exp32: the same float64 operations in the same order on
// four lanes at a time, so the results are bitwise exp32's. R8 points at
// expTab (rows of four float64/int64: log2e, magic, ln2, 1/5040, 1/720,
// 1/120, 1/24, 1/6, 1/2, 1, 1023).

// out (4 float32) = exp32 core of in (4 float32); clobbers Y1..Y5.
#define EXP4(in, out) \
	VCVTPS2PD  in, Y1 \
	VMULPD     0(R8), Y1, Y2 \
	VADDPD     32(R8), Y2, Y2 \
	VSUBPD     32(R8), Y2, Y3 \
	VPSUBQ     32(R8), Y2, Y2 \
	VPADDQ     320(R8), Y2, Y2 \
	VPSLLQ     $52, Y2, Y2 \
	VMULPD     64(R8), Y3, Y4 \
	VSUBPD     Y4, Y1, Y4 \
	VMULPD     96(R8), Y4, Y5 \
	VADDPD     128(R8), Y5, Y5 \
	VMULPD     Y4, Y5, Y5 \
	VADDPD     160(R8), Y5, Y5 \
	VMULPD     Y4, Y5, Y5 \
	VADDPD     192(R8), Y5, Y5 \
	VMULPD     Y4, Y5, Y5 \
	VADDPD     224(R8), Y5, Y5 \
	VMULPD     Y4, Y5, Y5 \
	VADDPD     256(R8), Y5, Y5 \
	VMULPD     Y4, Y5, Y5 \
	VADDPD     288(R8), Y5, Y5 \
	VMULPD     Y4, Y5, Y5 \
	VADDPD     288(R8), Y5, Y5 \
	VMULPD     Y2, Y5, Y5 \
	VCVTPD2PSY Y5, out

// Y7 = exp32 of the 8 lanes of Y0 (special cases included); clobbers
// Y1..Y6. Needs −104 in Y15, 88.8 in Y14, +Inf in Y13.
#define EXP8 \
	EXP4(X0, X7) \
	VEXTRACTF128 $1, Y0, X6 \
	EXP4(X6, X6) \
	VINSERTF128  $1, X6, Y7, Y7 \
	VCMPPS       $1, Y15, Y0, Y1 \
	VANDNPS      Y7, Y1, Y7 \
	VCMPPS       $0x1E, Y14, Y0, Y1 \
	VBLENDVPS    Y1, Y13, Y7, Y7 \
	VCMPPS       $3, Y0, Y0, Y1 \
	VBLENDVPS    Y1, Y0, Y7, Y7

#define EXPCONST \
	MOVQ         tab+24(FP), R8 \
	MOVL         $0xC2D00000, AX \
	MOVQ         AX, X15 \
	VBROADCASTSS X15, Y15 \
	MOVL         $0x42B1999A, AX \
	MOVQ         AX, X14 \
	VBROADCASTSS X14, Y14 \
	MOVL         $0x7F800000, AX \
	MOVQ         AX, X13 \
	VBROADCASTSS X13, Y13

// func expF32AVX2(x *float32, n int, shift float32, tab *[11][4]uint64)
// x[i] = exp32(x[i] − shift) for i < n, n a multiple of 8.
TEXT ·expF32AVX2(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	EXPCONST
	VBROADCASTSS shift+16(FP), Y12
	SHRQ         $3, CX
	JEQ          edone

eloop:
	VMOVUPS (SI), Y0
	VSUBPS  Y12, Y0, Y0
	EXP8
	VMOVUPS Y7, (SI)
	ADDQ    $32, SI
	DECQ    CX
	JNZ     eloop

edone:
	VZEROUPPER
	RET

// func swiGLUF32AVX2(gate *float32, up *float32, n int, tab *[11][4]uint64)
// g[i] = g[i] / (1 + exp32(−g[i])) · u[i] for i < n, n a multiple of 8.
TEXT ·swiGLUF32AVX2(SB), NOSPLIT, $0-32
	MOVQ         gate+0(FP), SI
	MOVQ         up+8(FP), DI
	MOVQ         n+16(FP), CX
	EXPCONST
	MOVL         $0x80000000, AX
	MOVQ         AX, X12
	VBROADCASTSS X12, Y12
	MOVL         $0x3F800000, AX
	MOVQ         AX, X11
	VBROADCASTSS X11, Y11
	SHRQ         $3, CX
	JEQ          sdone

sloop:
	VMOVUPS (SI), Y8
	VXORPS  Y12, Y8, Y0
	EXP8
	VADDPS  Y11, Y7, Y7
	VDIVPS  Y7, Y8, Y7
	VMULPS  (DI), Y7, Y7
	VMOVUPS Y7, (SI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     sloop

sdone:
	VZEROUPPER
	RET

// func scaleMaxF32AVX2(x *float32, n int, scale float32) float32
// x[i] *= scale for i < n (a positive multiple of 8); returns the maximum.
TEXT ·scaleMaxF32AVX2(SB), NOSPLIT, $0-28
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS scale+16(FP), Y12
	MOVL         $0xFF800000, AX
	MOVQ         AX, X0
	VBROADCASTSS X0, Y0
	SHRQ         $3, CX

mloop:
	VMULPS  (SI), Y12, Y1
	VMOVUPS Y1, (SI)
	VMAXPS  Y1, Y0, Y0
	ADDQ    $32, SI
	DECQ    CX
	JNZ     mloop
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4E, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xB1, X0, X1
	VMAXPS       X1, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+24(FP)
	RET

// func expSumF32AVX2(x *float32, n int, shift float32, tab *[11][4]uint64) float64
// x[i] = exp32(x[i] − shift) for i < n (a positive multiple of 8); returns
// their sum as expSumF32Go orders it.
TEXT ·expSumF32AVX2(SB), NOSPLIT, $0-40
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	EXPCONST
	VBROADCASTSS shift+16(FP), Y12
	VXORPD       Y9, Y9, Y9
	VXORPD       Y10, Y10, Y10
	SHRQ         $3, CX

xloop:
	VMOVUPS   (SI), Y0
	VSUBPS    Y12, Y0, Y0
	EXP8
	VMOVUPS   Y7, (SI)
	VCVTPS2PD X7, Y1
	VADDPD    Y1, Y9, Y9
	VEXTRACTF128 $1, Y7, X7
	VCVTPS2PD X7, Y1
	VADDPD    Y1, Y10, Y10
	ADDQ      $32, SI
	DECQ      CX
	JNZ       xloop
	VADDPD       Y10, Y9, Y9       // a_l = s_l + s_{l+4}
	VEXTRACTF128 $1, Y9, X10
	VADDPD       X10, X9, X9       // [a0+a2, a1+a3]
	VPERMILPD    $1, X9, X10
	VADDSD       X10, X9, X9       // (a0+a2) + (a1+a3)
	VZEROUPPER
	MOVSD        X9, ret+32(FP)
	RET

// func scaleF32AVX2(x *float32, n int, a float32)
// x[i] *= a for i < n (a positive multiple of 8).
TEXT ·scaleF32AVX2(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS a+16(FP), Y12
	SHRQ         $3, CX

sclloop:
	VMULPS  (SI), Y12, Y1
	VMOVUPS Y1, (SI)
	ADDQ    $32, SI
	DECQ    CX
	JNZ     sclloop
	VZEROUPPER
	RET
