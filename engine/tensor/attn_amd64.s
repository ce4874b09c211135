//go:build !purego

#include "textflag.h"

// func dotsF32AVX2(q *float32, k *float32, stride int, n int, count int, out *float32)
// For each of count keys (k advanced by stride bytes per key): the
// operations of dotF32AVX2(q, key, n), n a positive multiple of 8, stored
// to out[p].
TEXT ·dotsF32AVX2(SB), NOSPLIT, $0-48
	MOVQ q+0(FP), SI
	MOVQ k+8(FP), DI
	MOVQ stride+16(FP), R8
	MOVQ n+24(FP), R9
	MOVQ count+32(FP), DX
	MOVQ out+40(FP), R10

dskey:
	MOVQ   SI, AX
	MOVQ   DI, BX
	MOVQ   R9, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

ds16:
	CMPQ        CX, $16
	JLT         ds8
	VMOVUPS     0(AX), Y4
	VMOVUPS     32(AX), Y5
	VFMADD231PS (BX), Y4, Y0
	VFMADD231PS 32(BX), Y5, Y1
	ADDQ        $64, AX
	ADDQ        $64, BX
	SUBQ        $16, CX
	JMP         ds16

ds8:
	CMPQ        CX, $8
	JLT         dsdone
	VMOVUPS     0(AX), Y4
	VFMADD231PS (BX), Y4, Y0

dsdone:
	VADDPS       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VPERMILPS    $0x4E, X0, X1
	VADDPS       X1, X0, X0
	VPERMILPS    $0xB1, X0, X1
	VADDPS       X1, X0, X0
	MOVSS        X0, (R10)
	ADDQ         $4, R10
	ADDQ         R8, DI
	DECQ         DX
	JNZ          dskey
	VZEROUPPER
	RET

// func mixF32AVX2(y *float32, w *float32, v *float32, stride int, n int, count int)
// y[i] = fma(w[p], v[p·stride + i], y[i]) for p = 0..count−1 in order, for
// i < n (a positive multiple of 8), 64 elements at a time in registers.
TEXT ·mixF32AVX2(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ v+16(FP), SI
	MOVQ stride+24(FP), R8
	MOVQ n+32(FP), R9

mx64:
	CMPQ    R9, $64
	JLT     mx8
	VMOVUPS 0(DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VMOVUPS 128(DI), Y4
	VMOVUPS 160(DI), Y5
	VMOVUPS 192(DI), Y6
	VMOVUPS 224(DI), Y7
	MOVQ    w+8(FP), BX
	MOVQ    SI, AX
	MOVQ    count+40(FP), CX

mx64p:
	VBROADCASTSS (BX), Y15
	VFMADD231PS  0(AX), Y15, Y0
	VFMADD231PS  32(AX), Y15, Y1
	VFMADD231PS  64(AX), Y15, Y2
	VFMADD231PS  96(AX), Y15, Y3
	VFMADD231PS  128(AX), Y15, Y4
	VFMADD231PS  160(AX), Y15, Y5
	VFMADD231PS  192(AX), Y15, Y6
	VFMADD231PS  224(AX), Y15, Y7
	ADDQ         $4, BX
	ADDQ         R8, AX
	DECQ         CX
	JNZ          mx64p
	VMOVUPS      Y0, 0(DI)
	VMOVUPS      Y1, 32(DI)
	VMOVUPS      Y2, 64(DI)
	VMOVUPS      Y3, 96(DI)
	VMOVUPS      Y4, 128(DI)
	VMOVUPS      Y5, 160(DI)
	VMOVUPS      Y6, 192(DI)
	VMOVUPS      Y7, 224(DI)
	ADDQ         $256, DI
	ADDQ         $256, SI
	SUBQ         $64, R9
	JMP          mx64

mx8:
	CMPQ    R9, $8
	JLT     mxdone
	VMOVUPS (DI), Y0
	MOVQ    w+8(FP), BX
	MOVQ    SI, AX
	MOVQ    count+40(FP), CX

mx8p:
	VBROADCASTSS (BX), Y15
	VFMADD231PS  (AX), Y15, Y0
	ADDQ         $4, BX
	ADDQ         R8, AX
	DECQ         CX
	JNZ          mx8p
	VMOVUPS      Y0, (DI)
	ADDQ         $32, DI
	ADDQ         $32, SI
	SUBQ         $8, R9
	JMP          mx8

mxdone:
	VZEROUPPER
	RET
