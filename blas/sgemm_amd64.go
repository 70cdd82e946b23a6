//go:build !purego && !(cgo && openblas)

package blas

import "golang.org/x/sys/cpu"

// The micro-kernels in sgemm_amd64.s; see microKernel for their contract.
//
//go:noescape
func sgemmKernelAVX2(kc int, a *float32, pa, ra int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int)

//go:noescape
func sgemmKernelAVX512(kc int, a *float32, pa, ra int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int)

var (
	avx2Kernel   = microKernel{name: "avx2+fma", nr: 16, run: sgemmKernelAVX2}
	avx512Kernel = microKernel{name: "avx512", nr: 32, run: sgemmKernelAVX512}
)

func init() {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		kernels = append([]microKernel{avx2Kernel}, kernels...)
		usePacked = true
	}
	if cpu.X86.HasAVX512F {
		kernels = append([]microKernel{avx512Kernel}, kernels...)
	}
	kern = kernels[0]
}
