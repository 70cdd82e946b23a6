#include "textflag.h"

// Eight floats at a time, with the same bits as the Go loops in
// elementwise.go (integer masks, one add per element).

// func reluAVX2(y *float32, n int)
//
// y[i] = 0 where y[i]'s sign bit is set, for i < n (n a multiple of 8).
TEXT ·reluAVX2(SB), NOSPLIT, $0-16
	MOVQ y+0(FP), DI
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	JZ   rdone

rloop:
	VMOVDQU (DI), Y0
	VPSRAD  $31, Y0, Y1 // all ones where the sign bit is set
	VPANDN  Y0, Y1, Y0  // y &^ mask
	VMOVDQU Y0, (DI)
	ADDQ    $32, DI
	DECQ    CX
	JNZ     rloop

rdone:
	VZEROUPPER
	RET

// func reluGradAVX2(y, grad, dz *float32, n int)
//
// dz[i] = grad[i] where y[i]'s bits, as an int32, are positive, else +0, for
// i < n (n a multiple of 8).
TEXT ·reluGradAVX2(SB), NOSPLIT, $0-32
	MOVQ  y+0(FP), SI
	MOVQ  grad+8(FP), DX
	MOVQ  dz+16(FP), DI
	MOVQ  n+24(FP), CX
	SHRQ  $3, CX
	JZ    gdone
	VPXOR Y15, Y15, Y15

gloop:
	VMOVDQU  (SI), Y0
	VPCMPGTD Y15, Y0, Y1 // all ones where int32(y) > 0
	VPAND    (DX), Y1, Y1
	VMOVDQU  Y1, (DI)
	ADDQ     $32, SI
	ADDQ     $32, DX
	ADDQ     $32, DI
	DECQ     CX
	JNZ      gloop

gdone:
	VZEROUPPER
	RET

// func addToAVX2(s, x *float32, n int)
//
// s[i] += x[i] for i < n (n a multiple of 8).
TEXT ·addToAVX2(SB), NOSPLIT, $0-24
	MOVQ s+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   adone

aloop:
	VMOVUPS (DI), Y0
	VADDPS  (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	DECQ    CX
	JNZ     aloop

adone:
	VZEROUPPER
	RET
