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

DATA iota16<>+0(SB)/4, $0
DATA iota16<>+4(SB)/4, $1
DATA iota16<>+8(SB)/4, $2
DATA iota16<>+12(SB)/4, $3
DATA iota16<>+16(SB)/4, $4
DATA iota16<>+20(SB)/4, $5
DATA iota16<>+24(SB)/4, $6
DATA iota16<>+28(SB)/4, $7
DATA iota16<>+32(SB)/4, $8
DATA iota16<>+36(SB)/4, $9
DATA iota16<>+40(SB)/4, $10
DATA iota16<>+44(SB)/4, $11
DATA iota16<>+48(SB)/4, $12
DATA iota16<>+52(SB)/4, $13
DATA iota16<>+56(SB)/4, $14
DATA iota16<>+60(SB)/4, $15
GLOBL iota16<>(SB), RODATA|NOPTR, $64

// func atLeastAVX512(s *float32, n int, tau float32, idx *int32) int
//
// Writes to idx, in increasing order, the indices j < n (n a multiple of
// 16) with s[j] ≥ tau (an ordered comparison: NaN never is), and returns
// how many. Each block of 16 stores 16 indices at the count so far, which
// is at most the block's start: idx[:n] holds every store.
TEXT ·atLeastAVX512(SB), NOSPLIT, $0-40
	MOVQ         s+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS tau+16(FP), Z1
	MOVQ         idx+24(FP), DI
	MOVQ         DI, R8
	VMOVDQU32    iota16<>(SB), Z2 // the indices of the first block
	MOVL         $16, AX
	VPBROADCASTD AX, Z3           // and the step to the next
	XORQ         AX, AX

loop:
	CMPQ        AX, CX
	JGE         done
	VCMPPS      $0x12, (SI)(AX*4), Z1, K1 // LE_OQ: tau ≤ s
	VPCOMPRESSD Z2, K1, Z4    // into a register: to memory it is microcoded, slow on some CPUs
	VMOVDQU32   Z4, (DI)      // all 16: those past the new count are scratch
	KMOVW       K1, DX
	POPCNTL     DX, DX
	LEAQ        (DI)(DX*4), DI
	VPADDD      Z3, Z2, Z2
	ADDQ        $16, AX
	JMP         loop

done:
	SUBQ DI, R8
	NEGQ R8
	SHRQ $2, R8
	MOVQ R8, ret+32(FP)
	VZEROUPPER
	RET
