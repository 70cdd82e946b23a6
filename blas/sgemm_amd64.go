//go:build !purego && !(cgo && openblas)

package blas

import "golang.org/x/sys/cpu"

// sgemmKernelAVX2 is the 6×16 AVX2+FMA micro-kernel in sgemm_amd64.s; see
// kernelGo for its contract.
//
//go:noescape
func sgemmKernelAVX2(kc int, a, b, c *float32, ldc int, alpha, beta float32, flags int)

func init() {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		kernel = sgemmKernelAVX2
		kernelName = "avx2+fma"
		usePacked = true
	}
}
