//go:build !purego && !(cgo && openblas)

package blas

import (
	"sync"
	"syscall"

	"golang.org/x/sys/cpu"
)

// tileConfig is AMX's 64-byte tile configuration (palette 1).
type tileConfig [64]byte

// amxBlocks is the tile kernel in bf16_amx_linux_amd64.s.
//
//go:noescape
func amxBlocks(cfg *tileConfig, a *uint16, b *uint16, c *float32, ldc int, kt, nb, accum int)

// amxConfig gives all eight tiles 16 rows of 64 bytes: tmm0–3 hold a 32×32
// float32 block of C, tmm4–5 32 rows × 32 bf16 of A, tmm6–7 16 pair rows ×
// 32 columns of B.
var amxConfig = func() tileConfig {
	var c tileConfig
	c[0] = 1 // palette
	for t := range 8 {
		c[16+2*t] = 64 // bytes per row (little-endian uint16)
		c[48+t] = 16   // rows
	}
	return c
}()

// amxReady reports whether the CPU has AMX-BF16 and the AVX-512 the
// packing uses (F, BW, BF16; x/sys/cpu reports these only where the OS
// saves the registers) and Linux lets this process use the tile data
// (arch_prctl ARCH_REQ_XCOMP_PERM, Linux 5.16 and later). The first call
// asks for it, so only programs that multiply in bf16 do.
var amxReady = sync.OnceValue(func() bool {
	x := cpu.X86
	if !x.HasAMXTile || !x.HasAMXBF16 || !x.HasAVX512F || !x.HasAVX512BW || !x.HasAVX512BF16 {
		return false
	}
	const archReqXcompPerm, xfeatureXtiledata = 0x1023, 18
	_, _, errno := syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, archReqXcompPerm, xfeatureXtiledata, 0)
	return errno == 0
})

// The packing conversions in bf16_amx_linux_amd64.s.
//
//go:noescape
func cvtRowsAVX512(dst *uint16, dstStep int, x *float32, n int)

//go:noescape
func cvtPairRowsAVX512(dst *uint16, x *float32, ld int, pairs int)

//go:noescape
func transposeTilesAVX512(t *uint16, n int)
