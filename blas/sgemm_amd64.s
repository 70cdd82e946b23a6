// Single-precision GEMM micro-kernels, 6 rows by 16 (AVX2+FMA) or 32
// (AVX-512) columns, unrolled by 4 over k. A's columns are pa floats apart
// and its rows ra, B's rows ldb floats apart: packed panels, or A and B
// themselves.

//go:build !purego && !(cgo && openblas)

#include "textflag.h"

// STEP_Y adds a(p, r)·b(p, j) for one p to the accumulators Y4–Y15 (a's
// rows at SI + r·R12 bytes) and moves SI and DI to the next p (R10 and R9
// bytes on).
#define STEP_Y \
	VMOVUPS (DI), Y0; \
	VMOVUPS 32(DI), Y1; \
	VBROADCASTSS (SI), Y2; \
	VFMADD231PS Y0, Y2, Y4; \
	VFMADD231PS Y1, Y2, Y5; \
	VBROADCASTSS (SI)(R12*1), Y3; \
	VFMADD231PS Y0, Y3, Y6; \
	VFMADD231PS Y1, Y3, Y7; \
	VBROADCASTSS (SI)(R12*2), Y2; \
	VFMADD231PS Y0, Y2, Y8; \
	VFMADD231PS Y1, Y2, Y9; \
	VBROADCASTSS (SI)(R13*1), Y3; \
	VFMADD231PS Y0, Y3, Y10; \
	VFMADD231PS Y1, Y3, Y11; \
	VBROADCASTSS (SI)(R12*4), Y2; \
	VFMADD231PS Y0, Y2, Y12; \
	VFMADD231PS Y1, Y2, Y13; \
	VBROADCASTSS (SI)(R11*1), Y3; \
	VFMADD231PS Y0, Y3, Y14; \
	VFMADD231PS Y1, Y3, Y15; \
	ADDQ R10, SI; \
	ADDQ R9, DI

// STORE_Y writes alpha (Y0) times one row of accumulators to C at DX.
#define STORE_Y(lo, hi) \
	VMULPS Y0, lo, lo; \
	VMULPS Y0, hi, hi; \
	VMOVUPS lo, (DX); \
	VMOVUPS hi, 32(DX)

// STORE_BETA_Y writes alpha (Y0) times one row of accumulators plus
// beta (Y1) times C's row at DX.
#define STORE_BETA_Y(lo, hi) \
	VMULPS (DX), Y1, Y2; \
	VMULPS 32(DX), Y1, Y3; \
	VFMADD231PS Y0, lo, Y2; \
	VFMADD231PS Y0, hi, Y3; \
	VMOVUPS Y2, (DX); \
	VMOVUPS Y3, 32(DX)

// STEP_Z adds a(p, r)·b(p, j) for one p to the accumulators Z4–Z15 (a's
// rows at SI + r·R12 bytes) and moves SI and DI to the next p (R10 and R9
// bytes on).
#define STEP_Z \
	VMOVUPS (DI), Z0; \
	VMOVUPS 64(DI), Z1; \
	VBROADCASTSS (SI), Z2; \
	VFMADD231PS Z0, Z2, Z4; \
	VFMADD231PS Z1, Z2, Z5; \
	VBROADCASTSS (SI)(R12*1), Z3; \
	VFMADD231PS Z0, Z3, Z6; \
	VFMADD231PS Z1, Z3, Z7; \
	VBROADCASTSS (SI)(R12*2), Z2; \
	VFMADD231PS Z0, Z2, Z8; \
	VFMADD231PS Z1, Z2, Z9; \
	VBROADCASTSS (SI)(R13*1), Z3; \
	VFMADD231PS Z0, Z3, Z10; \
	VFMADD231PS Z1, Z3, Z11; \
	VBROADCASTSS (SI)(R12*4), Z2; \
	VFMADD231PS Z0, Z2, Z12; \
	VFMADD231PS Z1, Z2, Z13; \
	VBROADCASTSS (SI)(R11*1), Z3; \
	VFMADD231PS Z0, Z3, Z14; \
	VFMADD231PS Z1, Z3, Z15; \
	ADDQ R10, SI; \
	ADDQ R9, DI

// STORE_Z writes alpha (Z0) times one row of accumulators to C at DX.
#define STORE_Z(lo, hi) \
	VMULPS Z0, lo, lo; \
	VMULPS Z0, hi, hi; \
	VMOVUPS lo, (DX); \
	VMOVUPS hi, 64(DX)

// STORE_BETA_Z writes alpha (Z0) times one row of accumulators plus
// beta (Z1) times C's row at DX.
#define STORE_BETA_Z(lo, hi) \
	VMULPS (DX), Z1, Z2; \
	VMULPS 64(DX), Z1, Z3; \
	VFMADD231PS Z0, lo, Z2; \
	VFMADD231PS Z0, hi, Z3; \
	VMOVUPS Z2, (DX); \
	VMOVUPS Z3, 64(DX)

// func sgemmKernelAVX2(kc int, a *float32, pa, ra int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int)
//
// acc(6×16) = Σ_p a[p*pa+r*ra] * b[p*ldb+j] for p < kc, then for each row r:
//   flags == 0: c[r*ldc+j] = alpha*acc
//   flags != 0: c[r*ldc+j] = alpha*acc + beta*c[r*ldc+j]
// a is a 6×kc panel whose columns are pa floats apart and rows ra apart (6
// and 1 when packed), b a kc×16 panel with row stride ldb (16 when packed).
TEXT ·sgemmKernelAVX2(SB), NOSPLIT, $0-80
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ pa+16(FP), R10
	SHLQ $2, R10
	MOVQ ra+24(FP), R12
	SHLQ $2, R12
	LEAQ (R12)(R12*2), R13 // 3 rows
	LEAQ (R12)(R12*4), R11 // 5 rows
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R9
	SHLQ $2, R9
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R8
	SHLQ $2, R8
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	VXORPS Y14, Y14, Y14
	VXORPS Y15, Y15, Y15
	MOVQ CX, BX
	SHRQ $2, BX
	JZ Ytail
Yloop4:
	STEP_Y
	STEP_Y
	STEP_Y
	STEP_Y
	DECQ BX
	JNZ Yloop4
Ytail:
	ANDQ $3, CX
	JZ Ystore
Yloop1:
	STEP_Y
	DECQ CX
	JNZ Yloop1
Ystore:
	VBROADCASTSS alpha+64(FP), Y0
	MOVQ flags+72(FP), AX
	TESTQ AX, AX
	JNZ Ywithbeta
	STORE_Y(Y4, Y5)
	ADDQ R8, DX
	STORE_Y(Y6, Y7)
	ADDQ R8, DX
	STORE_Y(Y8, Y9)
	ADDQ R8, DX
	STORE_Y(Y10, Y11)
	ADDQ R8, DX
	STORE_Y(Y12, Y13)
	ADDQ R8, DX
	STORE_Y(Y14, Y15)
	VZEROUPPER
	RET
Ywithbeta:
	VBROADCASTSS beta+68(FP), Y1
	STORE_BETA_Y(Y4, Y5)
	ADDQ R8, DX
	STORE_BETA_Y(Y6, Y7)
	ADDQ R8, DX
	STORE_BETA_Y(Y8, Y9)
	ADDQ R8, DX
	STORE_BETA_Y(Y10, Y11)
	ADDQ R8, DX
	STORE_BETA_Y(Y12, Y13)
	ADDQ R8, DX
	STORE_BETA_Y(Y14, Y15)
	VZEROUPPER
	RET

// func sgemmKernelAVX512(kc int, a *float32, pa, ra int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int)
//
// acc(6×32) = Σ_p a[p*pa+r*ra] * b[p*ldb+j] for p < kc, then for each row r:
//   flags == 0: c[r*ldc+j] = alpha*acc
//   flags != 0: c[r*ldc+j] = alpha*acc + beta*c[r*ldc+j]
// a is a 6×kc panel whose columns are pa floats apart and rows ra apart (6
// and 1 when packed), b a kc×32 panel with row stride ldb (32 when packed).
TEXT ·sgemmKernelAVX512(SB), NOSPLIT, $0-80
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ pa+16(FP), R10
	SHLQ $2, R10
	MOVQ ra+24(FP), R12
	SHLQ $2, R12
	LEAQ (R12)(R12*2), R13 // 3 rows
	LEAQ (R12)(R12*4), R11 // 5 rows
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R9
	SHLQ $2, R9
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R8
	SHLQ $2, R8
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	VXORPS Z12, Z12, Z12
	VXORPS Z13, Z13, Z13
	VXORPS Z14, Z14, Z14
	VXORPS Z15, Z15, Z15
	MOVQ CX, BX
	SHRQ $2, BX
	JZ Ztail
Zloop4:
	STEP_Z
	STEP_Z
	STEP_Z
	STEP_Z
	DECQ BX
	JNZ Zloop4
Ztail:
	ANDQ $3, CX
	JZ Zstore
Zloop1:
	STEP_Z
	DECQ CX
	JNZ Zloop1
Zstore:
	VBROADCASTSS alpha+64(FP), Z0
	MOVQ flags+72(FP), AX
	TESTQ AX, AX
	JNZ Zwithbeta
	STORE_Z(Z4, Z5)
	ADDQ R8, DX
	STORE_Z(Z6, Z7)
	ADDQ R8, DX
	STORE_Z(Z8, Z9)
	ADDQ R8, DX
	STORE_Z(Z10, Z11)
	ADDQ R8, DX
	STORE_Z(Z12, Z13)
	ADDQ R8, DX
	STORE_Z(Z14, Z15)
	VZEROUPPER
	RET
Zwithbeta:
	VBROADCASTSS beta+68(FP), Z1
	STORE_BETA_Z(Z4, Z5)
	ADDQ R8, DX
	STORE_BETA_Z(Z6, Z7)
	ADDQ R8, DX
	STORE_BETA_Z(Z8, Z9)
	ADDQ R8, DX
	STORE_BETA_Z(Z10, Z11)
	ADDQ R8, DX
	STORE_BETA_Z(Z12, Z13)
	ADDQ R8, DX
	STORE_BETA_Z(Z14, Z15)
	VZEROUPPER
	RET
