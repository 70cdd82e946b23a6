#include "textflag.h"

// The conv block's pooling, eight channels at a time, with the bits of the
// Go loops in conv.go. Go's max(x, y) on amd64 is −min(−x, −y), and its
// min(x, y) is t|MINPS(t, x) with t = MINPS(x, y) (MINPS returns its second
// operand when either is NaN or both are zeros, which the OR puts right);
// the loops below compute the same, lane by lane.

// func poolRowAVX2(top, bottom, bias, out *float32, arg *uint8, windows, c, n int)
//
// For each of windows windows of c channels, and each channel below n (a
// multiple of 8): a, b are the window's two values in top (window j at
// top[2jc], top[2jc+c]), d, e in bottom;
//   out = max(max(a, b)+bias, max(d, e)+bias, 0)
//   arg = position of the first of a, b, d, e equal to max(a, b, d, e)
//         (0–3) where out > 0, else 4
TEXT ·poolRowAVX2(SB), NOSPLIT, $0-64
	MOVQ top+0(FP), SI
	MOVQ bottom+8(FP), DX
	MOVQ bias+16(FP), BX
	MOVQ out+24(FP), DI
	MOVQ arg+32(FP), R8
	MOVQ windows+40(FP), R9
	MOVQ c+48(FP), R10
	MOVQ n+56(FP), R11
	SHLQ $2, R10 // c in bytes
	LEAQ (SI)(R10*1), R12 // b
	LEAQ (DX)(R10*1), R13 // e

	// Y15 = −0 (the sign bit), Y14 = 0, Y13–Y10 = 1, 2, 3, 4 (int32).
	VPCMPEQD Y15, Y15, Y15
	VPSLLD   $31, Y15, Y15
	VPXOR    Y14, Y14, Y14
	VPCMPEQD Y13, Y13, Y13
	VPSRLD   $31, Y13, Y13
	VPADDD   Y13, Y13, Y12
	VPADDD   Y13, Y12, Y11
	VPADDD   Y12, Y12, Y10

pwindow:
	XORQ AX, AX // channel offset in floats' bytes
	XORQ CX, CX // channel

pchan:
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS (R12)(AX*1), Y1
	VMOVUPS (DX)(AX*1), Y2
	VMOVUPS (R13)(AX*1), Y3
	VXORPS  Y15, Y0, Y0 // −a
	VXORPS  Y15, Y1, Y1 // −b
	VXORPS  Y15, Y2, Y2 // −d
	VXORPS  Y15, Y3, Y3 // −e

	// Y4 = −max(a, b), Y6 = −max(d, e)
	VMINPS Y1, Y0, Y4
	VMINPS Y0, Y4, Y5
	VORPS  Y5, Y4, Y4
	VMINPS Y3, Y2, Y6
	VMINPS Y2, Y6, Y7
	VORPS  Y7, Y6, Y6

	// Y3 = −max(a, b, d, e), for the equalities only
	VMINPS Y6, Y4, Y3

	// Y5 = −(max(a, b)+bias), Y7 = −(max(d, e)+bias)
	VXORPS Y15, Y4, Y5
	VADDPS (BX)(AX*1), Y5, Y5
	VXORPS Y15, Y5, Y5
	VXORPS Y15, Y6, Y7
	VADDPS (BX)(AX*1), Y7, Y7
	VXORPS Y15, Y7, Y7

	// Y8 = −max(Y5', Y7'), then Y9 = −max(that, 0) and out = −Y9
	VMINPS Y7, Y5, Y8
	VMINPS Y5, Y8, Y9
	VORPS  Y9, Y8, Y8
	VMINPS Y15, Y8, Y9
	VMINPS Y8, Y9, Y5
	VORPS  Y5, Y9, Y9
	VXORPS Y15, Y9, Y9
	VMOVUPS Y9, (DI)(AX*1)

	// The code: 3, 2 where d is the maximum, 1 where b is, 0 where a is;
	// 4 where out is not > 0.
	VCMPPS    $0x1e, Y14, Y9, Y5 // out > 0 (GT_OQ)
	VCMPPS    $0, Y3, Y0, Y0     // a == max (EQ_OQ)
	VCMPPS    $0, Y3, Y1, Y1
	VCMPPS    $0, Y3, Y2, Y2
	VBLENDVPS Y2, Y12, Y11, Y4
	VBLENDVPS Y1, Y13, Y4, Y4
	VBLENDVPS Y0, Y14, Y4, Y4
	VBLENDVPS Y5, Y4, Y10, Y4

	// Eight int32s to eight bytes.
	VEXTRACTI128 $1, Y4, X5
	VPACKUSDW    X5, X4, X4
	VPACKUSWB    X4, X4, X4
	VMOVQ        X4, (R8)(CX*1)

	ADDQ $32, AX
	ADDQ $8, CX
	CMPQ CX, R11
	JB   pchan

	// The next window: two pixels on in top and bottom, one output on.
	LEAQ (SI)(R10*2), SI
	LEAQ (R12)(R10*2), R12
	LEAQ (DX)(R10*2), DX
	LEAQ (R13)(R10*2), R13
	ADDQ R10, DI
	MOVQ R10, AX
	SHRQ $2, AX
	ADDQ AX, R8
	DECQ R9
	JNZ  pwindow

	VZEROUPPER
	RET

// func poolGradRowAVX2(arg *uint8, grad, top, bottom *float32, windows, c, n int)
//
// For each of windows windows of c channels, and each channel below n (a
// multiple of 8): the window's four gradients (top[2jc], top[2jc+c],
// bottom[2jc], bottom[2jc+c]) are grad where arg is 0, 1, 2, 3 respectively,
// +0 elsewhere.
TEXT ·poolGradRowAVX2(SB), NOSPLIT, $0-56
	MOVQ arg+0(FP), R8
	MOVQ grad+8(FP), SI
	MOVQ top+16(FP), DI
	MOVQ bottom+24(FP), DX
	MOVQ windows+32(FP), R9
	MOVQ c+40(FP), R10
	MOVQ n+48(FP), R11
	SHLQ $2, R10
	LEAQ (DI)(R10*1), R12
	LEAQ (DX)(R10*1), R13

	VPXOR    Y14, Y14, Y14
	VPCMPEQD Y13, Y13, Y13
	VPSRLD   $31, Y13, Y13
	VPADDD   Y13, Y13, Y12
	VPADDD   Y13, Y12, Y11

gwindow:
	XORQ AX, AX
	XORQ CX, CX

gchan:
	VPMOVZXBD (R8)(CX*1), Y0
	VMOVDQU   (SI)(AX*1), Y1
	VPCMPEQD  Y14, Y0, Y2
	VPAND     Y1, Y2, Y2
	VMOVDQU   Y2, (DI)(AX*1)
	VPCMPEQD  Y13, Y0, Y2
	VPAND     Y1, Y2, Y2
	VMOVDQU   Y2, (R12)(AX*1)
	VPCMPEQD  Y12, Y0, Y2
	VPAND     Y1, Y2, Y2
	VMOVDQU   Y2, (DX)(AX*1)
	VPCMPEQD  Y11, Y0, Y2
	VPAND     Y1, Y2, Y2
	VMOVDQU   Y2, (R13)(AX*1)
	ADDQ      $32, AX
	ADDQ      $8, CX
	CMPQ      CX, R11
	JB        gchan

	LEAQ (DI)(R10*2), DI
	LEAQ (R12)(R10*2), R12
	LEAQ (DX)(R10*2), DX
	LEAQ (R13)(R10*2), R13
	ADDQ R10, SI
	MOVQ R10, AX
	SHRQ $2, AX
	ADDQ AX, R8
	DECQ R9
	JNZ  gwindow

	VZEROUPPER
	RET

// func liveSumsAVX2(grad, out, acc *float32, rows, c, n int)
//
// For each of rows rows (c floats apart) and each channel j below n (a
// multiple of 8): acc[j] += grad[j] where out[j] > 0, else acc[j] += +0.
TEXT ·liveSumsAVX2(SB), NOSPLIT, $0-48
	MOVQ  grad+0(FP), SI
	MOVQ  out+8(FP), DX
	MOVQ  acc+16(FP), DI
	MOVQ  rows+24(FP), R9
	MOVQ  c+32(FP), R10
	MOVQ  n+40(FP), R11
	SHLQ  $2, R10
	VPXOR Y14, Y14, Y14
	TESTQ R9, R9
	JZ    sdone

srow:
	XORQ AX, AX
	XORQ CX, CX

schan:
	VMOVUPS (DX)(AX*1), Y0
	VCMPPS  $0x1e, Y14, Y0, Y0 // out > 0 (GT_OQ)
	VANDPS  (SI)(AX*1), Y0, Y0
	VMOVUPS (DI)(AX*1), Y1
	VADDPS  Y0, Y1, Y1         // acc + grad, as the Go loop adds
	VMOVUPS Y1, (DI)(AX*1)
	ADDQ    $32, AX
	ADDQ    $8, CX
	CMPQ    CX, R11
	JB      schan

	ADDQ R10, SI
	ADDQ R10, DX
	DECQ R9
	JNZ  srow

sdone:
	VZEROUPPER
	RET
