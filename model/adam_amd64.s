#include "textflag.h"

// func adamAVX2(w, grad, m, v *float32, n int, c *adamConsts)
//
// n/8 blocks of eight: the same float32 operations, in the same order, as
// adamScalar (no fused multiply-add), so results are bit-identical. It
// runs with MXCSR's flush-to-zero and denormals-are-zero bits set (and
// restores MXCSR): subnormal operands are read as zero and subnormal
// results written as zero, as adamScalar does by hand. (Moments that decay
// into the subnormal range otherwise cost a microcode assist each time.)
TEXT ·adamAVX2(SB), NOSPLIT, $8-48
	STMXCSR 0(SP)         // the caller's MXCSR, restored at done
	MOVL    0(SP), AX
	ORL     $0x8040, AX   // FTZ (bit 15) and DAZ (bit 6)
	MOVL    AX, 4(SP)
	LDMXCSR 4(SP)
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	VBROADCASTSS 0(AX), Y8   // b1
	VBROADCASTSS 4(AX), Y9   // 1-b1
	VBROADCASTSS 8(AX), Y10  // b2
	VBROADCASTSS 12(AX), Y11 // 1-b2
	VBROADCASTSS 16(AX), Y12 // alpha
	VBROADCASTSS 20(AX), Y13 // eps
	SHRQ $3, CX
	JZ   done

loop:
	VMOVUPS (SI), Y0       // g
	VMOVUPS (R8), Y1       // m
	VMOVUPS (R9), Y2       // v
	VMULPS  Y8, Y1, Y1     // b1*m
	VMULPS  Y9, Y0, Y3     // (1-b1)*g
	VADDPS  Y3, Y1, Y1     // m' = b1*m + (1-b1)*g
	VMULPS  Y11, Y0, Y4    // (1-b2)*g
	VMULPS  Y0, Y4, Y4     // (1-b2)*g*g
	VMULPS  Y10, Y2, Y2    // b2*v
	VADDPS  Y4, Y2, Y2     // v' = b2*v + (1-b2)*g*g
	VMOVUPS Y1, (R8)
	VMOVUPS Y2, (R9)
	VSQRTPS Y2, Y5
	VADDPS  Y13, Y5, Y5    // sqrt(v')+eps
	VMULPS  Y12, Y1, Y6    // alpha*m'
	VDIVPS  Y5, Y6, Y6     // alpha*m' / (sqrt(v')+eps)
	VMOVUPS (DI), Y7
	VSUBPS  Y6, Y7, Y7     // w - …
	VMOVUPS Y7, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, R8
	ADDQ    $32, R9
	DECQ    CX
	JNZ     loop

done:
	LDMXCSR 0(SP)
	VZEROUPPER
	RET
