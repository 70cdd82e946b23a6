//go:build !linux || !amd64 || purego || (cgo && openblas)

package blas

// Without AMX (other systems, the purego and OpenBLAS builds) BF16's Sgemm rounds the
// operands and uses the float32 Sgemm.

type tileConfig [64]byte

var amxConfig tileConfig

func amxReady() bool { return false }

func amxBlocks(cfg *tileConfig, a *uint16, b *uint16, c *float32, ldc int, kt, nb, accum int) {
	panic("blas: no AMX")
}

func cvtRowsAVX512(dst *uint16, dstStep int, x *float32, n int) { panic("blas: no AMX") }

func cvtPairRowsAVX512(dst *uint16, x *float32, ld int, pairs int) { panic("blas: no AMX") }

func transposeTilesAVX512(t *uint16, n int) { panic("blas: no AMX") }
