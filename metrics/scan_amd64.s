#include "textflag.h"

// func aboveAVX2(s *float32, n int, thr float32) int
//
// The start of the first block of eight of s[:n] (n a multiple of 8) that
// holds an element greater than thr (an ordered comparison: NaN is never
// greater), or n.
TEXT ·aboveAVX2(SB), NOSPLIT, $0-32
	MOVQ         s+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS thr+16(FP), Y1
	XORQ         AX, AX

loop:
	CMPQ      AX, CX
	JGE       done
	VMOVUPS   (SI)(AX*4), Y2
	VCMPPS    $0x1e, Y1, Y2, Y0 // GT_OQ: s > thr
	VMOVMSKPS Y0, DX
	TESTL     DX, DX
	JNZ       done
	ADDQ      $8, AX
	JMP       loop

done:
	MOVQ AX, ret+24(FP)
	VZEROUPPER
	RET
