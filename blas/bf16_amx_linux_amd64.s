// AMX-BF16 tile kernel. The Go assembler has no AMX mnemonics, so the tile
// instructions are written as bytes (assembled with GNU as from the
// instruction in the comment beside each).

//go:build !purego && !(cgo && openblas)

#include "textflag.h"

#define LDTILECFG_AX       BYTE $0xc4; BYTE $0xe2; BYTE $0x78; BYTE $0x49; BYTE $0x00
#define TILERELEASE        BYTE $0xc4; BYTE $0xe2; BYTE $0x78; BYTE $0x49; BYTE $0xc0
#define TILEZERO_0         BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x49; BYTE $0xc0
#define TILEZERO_1         BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x49; BYTE $0xc8
#define TILEZERO_2         BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x49; BYTE $0xd0
#define TILEZERO_3         BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x49; BYTE $0xd8
// tileloadd (%rdx,%r10,1),%tmm0 and so on.
#define LOAD_C0            BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0x04; BYTE $0x12
#define LOAD_C1            BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0x4c; BYTE $0x12; BYTE $0x40
#define LOAD_C2            BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0x14; BYTE $0x13
#define LOAD_C3            BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0x5c; BYTE $0x13; BYTE $0x40
// tileloadd (%rax,%r8,1),%tmm4; 0x400(%rax,%r8,1),%tmm5
#define LOAD_A0            BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0x24; BYTE $0x00
#define LOAD_A1            BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0xac; BYTE $0x00; BYTE $0x00; BYTE $0x04; BYTE $0x00; BYTE $0x00
// tileloadd (%rcx,%r9,1),%tmm6; 0x400(%rcx,%r9,1),%tmm7
#define LOAD_B0            BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0x34; BYTE $0x09
#define LOAD_B1            BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0xbc; BYTE $0x09; BYTE $0x00; BYTE $0x04; BYTE $0x00; BYTE $0x00
// tdpbf16ps %tmm6,%tmm4,%tmm0 (tmm0 += tmm4·tmm6), and so on.
#define DOT_00             BYTE $0xc4; BYTE $0xe2; BYTE $0x4a; BYTE $0x5c; BYTE $0xc4
#define DOT_01             BYTE $0xc4; BYTE $0xe2; BYTE $0x42; BYTE $0x5c; BYTE $0xcc
#define DOT_10             BYTE $0xc4; BYTE $0xe2; BYTE $0x4a; BYTE $0x5c; BYTE $0xd5
#define DOT_11             BYTE $0xc4; BYTE $0xe2; BYTE $0x42; BYTE $0x5c; BYTE $0xdd
// tilestored %tmm0,(%rdx,%r10,1) and so on.
#define STORE_C0           BYTE $0xc4; BYTE $0xa2; BYTE $0x7a; BYTE $0x4b; BYTE $0x04; BYTE $0x12
#define STORE_C1           BYTE $0xc4; BYTE $0xa2; BYTE $0x7a; BYTE $0x4b; BYTE $0x4c; BYTE $0x12; BYTE $0x40
#define STORE_C2           BYTE $0xc4; BYTE $0xa2; BYTE $0x7a; BYTE $0x4b; BYTE $0x14; BYTE $0x13
#define STORE_C3           BYTE $0xc4; BYTE $0xa2; BYTE $0x7a; BYTE $0x4b; BYTE $0x5c; BYTE $0x13; BYTE $0x40

// func amxBlocks(cfg *tileConfig, a *uint16, b *uint16, c *float32, ldc int, kt, nb, accum int)
//
// For each of nb blocks of 32 columns: C(32×32) = Σ over kt steps of
// A(32×32 bf16)·B(32×32 bf16), starting from zero (accum == 0) or from C
// (accum != 0). a holds the kt steps of A's 32 rows one after the other,
// each two 16-row tiles of 1 KiB; b the kt steps of each block's B the same
// way (two tiles of 16 pair rows × 16 columns), block after block; c is
// float32 rows ldc bytes apart, the blocks 128 bytes apart. kt and nb are
// at least 1. Every tile is 16 rows × 64 bytes (cfg).
TEXT ·amxBlocks(SB), NOSPLIT, $0-64
	MOVQ cfg+0(FP), AX
	LDTILECFG_AX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R10
	MOVQ kt+40(FP), R11
	MOVQ nb+48(FP), R12
	MOVQ $64, R8 // tile rows are 64 bytes apart
	MOVQ $64, R9
	MOVQ R11, R14
	SHLQ $11, R14 // one block of B: kt × 2 KiB

block:
	MOVQ R10, BX
	SHLQ $4, BX
	ADDQ DX, BX // C's row 16
	CMPQ accum+56(FP), $0
	JEQ  zero
	LOAD_C0
	LOAD_C1
	LOAD_C2
	LOAD_C3
	JMP  kstart

zero:
	TILEZERO_0
	TILEZERO_1
	TILEZERO_2
	TILEZERO_3

kstart:
	MOVQ SI, AX
	MOVQ DI, CX
	MOVQ R11, R15

kloop:
	LOAD_A0
	LOAD_A1
	LOAD_B0
	LOAD_B1
	DOT_00
	DOT_01
	DOT_10
	DOT_11
	ADDQ $2048, AX
	ADDQ $2048, CX
	DECQ R15
	JNZ  kloop

	MOVQ R10, BX
	SHLQ $4, BX
	ADDQ DX, BX
	STORE_C0
	STORE_C1
	STORE_C2
	STORE_C3
	ADDQ R14, DI
	ADDQ $128, DX
	DECQ R12
	JNZ  block

	TILERELEASE
	RET

// bf16 conversion for packing (AVX-512; every AMX CPU has it). The
// conversion, VCVTNE2PS2BF16 (AVX512_BF16), is written as bytes: GNU as,
// vcvtne2ps2bf16 %zmm1,%zmm0,%zmm2: Z2's words 0–15 the bf16 of Z1, words
// 16–31 those of Z0 (round to nearest even, NaNs quiet, subnormals to zero).
#define CVT_Z1_Z0_Z2 BYTE $0x62; BYTE $0xf2; BYTE $0x7f; BYTE $0x48; BYTE $0x72; BYTE $0xd1

// vnniIdx interleaves the words of two halves: 0, 16, 1, 17, …
DATA vnniIdx<>+0(SB)/8, $0x0011000100100000
DATA vnniIdx<>+8(SB)/8, $0x0013000300120002
DATA vnniIdx<>+16(SB)/8, $0x0015000500140004
DATA vnniIdx<>+24(SB)/8, $0x0017000700160006
DATA vnniIdx<>+32(SB)/8, $0x0019000900180008
DATA vnniIdx<>+40(SB)/8, $0x001b000b001a000a
DATA vnniIdx<>+48(SB)/8, $0x001d000d001c000c
DATA vnniIdx<>+56(SB)/8, $0x001f000f001e000e
GLOBL vnniIdx<>(SB), RODATA|NOPTR, $64

// func cvtRowsAVX512(dst *uint16, dstStep int, x *float32, n int)
//
// Converts x[0:n] (n a multiple of 32) to bf16, 32 values at a time: the
// c-th 32 to the 64 bytes at dst + c·dstStep bytes.
TEXT ·cvtRowsAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ dstStep+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	SHRQ $5, CX
	JZ   rowsdone

rows:
	VMOVUPS (SI), Z1
	VMOVUPS 64(SI), Z0
	CVT_Z1_Z0_Z2
	VMOVDQU16 Z2, (DI)
	ADDQ $128, SI
	ADDQ DX, DI
	DECQ CX
	JNZ  rows

rowsdone:
	VZEROUPPER
	RET

// func cvtPairRowsAVX512(dst *uint16, x *float32, ld int, pairs int)
//
// For q < pairs: the bf16 of rows 2q and 2q+1 of x (ld bytes apart), 32
// columns, as VNNI pairs: columns 0–15 to the 64 bytes at dst + 64q,
// columns 16–31 to those at dst + 1024 + 64q.
TEXT ·cvtPairRowsAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ ld+16(FP), DX
	MOVQ pairs+24(FP), CX
	VMOVDQU16 vnniIdx<>(SB), Z3
	TESTQ CX, CX
	JZ   pairsdone

pairs:
	VMOVUPS (SI), Z1
	VMOVUPS (SI)(DX*1), Z0
	CVT_Z1_Z0_Z2
	VPERMW Z2, Z3, Z4
	VMOVDQU16 Z4, (DI)
	VMOVUPS 64(SI), Z1
	VMOVUPS 64(SI)(DX*1), Z0
	CVT_Z1_Z0_Z2
	VPERMW Z2, Z3, Z4
	VMOVDQU16 Z4, 1024(DI)
	LEAQ (SI)(DX*2), SI
	ADDQ $64, DI
	DECQ CX
	JNZ  pairs

pairsdone:
	VZEROUPPER
	RET

// func transposeTilesAVX512(t *uint16, n int)
//
// Transposes n consecutive tiles in place, each 16 × 16 32-bit words (1
// KiB): unpacks of 32- then 64-bit words, then two rounds of 128-bit lane
// shuffles.
TEXT ·transposeTilesAVX512(SB), NOSPLIT, $0-16
	MOVQ t+0(FP), DI
	MOVQ n+8(FP), CX
	TESTQ CX, CX
	JZ   tdone

tloop:
	VMOVDQU32 0(DI), Z0
	VMOVDQU32 64(DI), Z1
	VMOVDQU32 128(DI), Z2
	VMOVDQU32 192(DI), Z3
	VMOVDQU32 256(DI), Z4
	VMOVDQU32 320(DI), Z5
	VMOVDQU32 384(DI), Z6
	VMOVDQU32 448(DI), Z7
	VMOVDQU32 512(DI), Z8
	VMOVDQU32 576(DI), Z9
	VMOVDQU32 640(DI), Z10
	VMOVDQU32 704(DI), Z11
	VMOVDQU32 768(DI), Z12
	VMOVDQU32 832(DI), Z13
	VMOVDQU32 896(DI), Z14
	VMOVDQU32 960(DI), Z15
	VPUNPCKLDQ Z1, Z0, Z16
	VPUNPCKHDQ Z1, Z0, Z17
	VPUNPCKLDQ Z3, Z2, Z18
	VPUNPCKHDQ Z3, Z2, Z19
	VPUNPCKLDQ Z5, Z4, Z20
	VPUNPCKHDQ Z5, Z4, Z21
	VPUNPCKLDQ Z7, Z6, Z22
	VPUNPCKHDQ Z7, Z6, Z23
	VPUNPCKLDQ Z9, Z8, Z24
	VPUNPCKHDQ Z9, Z8, Z25
	VPUNPCKLDQ Z11, Z10, Z26
	VPUNPCKHDQ Z11, Z10, Z27
	VPUNPCKLDQ Z13, Z12, Z28
	VPUNPCKHDQ Z13, Z12, Z29
	VPUNPCKLDQ Z15, Z14, Z30
	VPUNPCKHDQ Z15, Z14, Z31
	VPUNPCKLQDQ Z18, Z16, Z0
	VPUNPCKHQDQ Z18, Z16, Z1
	VPUNPCKLQDQ Z19, Z17, Z2
	VPUNPCKHQDQ Z19, Z17, Z3
	VPUNPCKLQDQ Z22, Z20, Z4
	VPUNPCKHQDQ Z22, Z20, Z5
	VPUNPCKLQDQ Z23, Z21, Z6
	VPUNPCKHQDQ Z23, Z21, Z7
	VPUNPCKLQDQ Z26, Z24, Z8
	VPUNPCKHQDQ Z26, Z24, Z9
	VPUNPCKLQDQ Z27, Z25, Z10
	VPUNPCKHQDQ Z27, Z25, Z11
	VPUNPCKLQDQ Z30, Z28, Z12
	VPUNPCKHQDQ Z30, Z28, Z13
	VPUNPCKLQDQ Z31, Z29, Z14
	VPUNPCKHQDQ Z31, Z29, Z15
	VSHUFI32X4 $0x88, Z4, Z0, Z16
	VSHUFI32X4 $0xdd, Z4, Z0, Z20
	VSHUFI32X4 $0x88, Z5, Z1, Z17
	VSHUFI32X4 $0xdd, Z5, Z1, Z21
	VSHUFI32X4 $0x88, Z6, Z2, Z18
	VSHUFI32X4 $0xdd, Z6, Z2, Z22
	VSHUFI32X4 $0x88, Z7, Z3, Z19
	VSHUFI32X4 $0xdd, Z7, Z3, Z23
	VSHUFI32X4 $0x88, Z12, Z8, Z24
	VSHUFI32X4 $0xdd, Z12, Z8, Z28
	VSHUFI32X4 $0x88, Z13, Z9, Z25
	VSHUFI32X4 $0xdd, Z13, Z9, Z29
	VSHUFI32X4 $0x88, Z14, Z10, Z26
	VSHUFI32X4 $0xdd, Z14, Z10, Z30
	VSHUFI32X4 $0x88, Z15, Z11, Z27
	VSHUFI32X4 $0xdd, Z15, Z11, Z31
	VSHUFI32X4 $0x88, Z24, Z16, Z0
	VSHUFI32X4 $0xdd, Z24, Z16, Z8
	VSHUFI32X4 $0x88, Z25, Z17, Z1
	VSHUFI32X4 $0xdd, Z25, Z17, Z9
	VSHUFI32X4 $0x88, Z26, Z18, Z2
	VSHUFI32X4 $0xdd, Z26, Z18, Z10
	VSHUFI32X4 $0x88, Z27, Z19, Z3
	VSHUFI32X4 $0xdd, Z27, Z19, Z11
	VSHUFI32X4 $0x88, Z28, Z20, Z4
	VSHUFI32X4 $0xdd, Z28, Z20, Z12
	VSHUFI32X4 $0x88, Z29, Z21, Z5
	VSHUFI32X4 $0xdd, Z29, Z21, Z13
	VSHUFI32X4 $0x88, Z30, Z22, Z6
	VSHUFI32X4 $0xdd, Z30, Z22, Z14
	VSHUFI32X4 $0x88, Z31, Z23, Z7
	VSHUFI32X4 $0xdd, Z31, Z23, Z15
	VMOVDQU32 Z0, 0(DI)
	VMOVDQU32 Z1, 64(DI)
	VMOVDQU32 Z2, 128(DI)
	VMOVDQU32 Z3, 192(DI)
	VMOVDQU32 Z4, 256(DI)
	VMOVDQU32 Z5, 320(DI)
	VMOVDQU32 Z6, 384(DI)
	VMOVDQU32 Z7, 448(DI)
	VMOVDQU32 Z8, 512(DI)
	VMOVDQU32 Z9, 576(DI)
	VMOVDQU32 Z10, 640(DI)
	VMOVDQU32 Z11, 704(DI)
	VMOVDQU32 Z12, 768(DI)
	VMOVDQU32 Z13, 832(DI)
	VMOVDQU32 Z14, 896(DI)
	VMOVDQU32 Z15, 960(DI)
	ADDQ $1024, DI
	DECQ CX
	JNZ  tloop

tdone:
	VZEROUPPER
	RET
