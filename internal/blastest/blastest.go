// Package blastest checks, for tests, that matrix products go to the
// backend package blas selects (OpenBLAS or our packed Sgemm), never to
// gonum's native Sgemm, directly or through gonum's blas32.
package blastest

import (
	"sync/atomic"
	"testing"

	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/siamese-pipeline/siamese/blas"
)

// trap is gonum's implementation with a Sgemm that counts its calls.
type trap struct {
	gonum.Implementation
	calls *atomic.Int64
}

func (t trap) Sgemm(tA, tB gblas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	t.calls.Add(1)
	t.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// RequireSelected runs run and fails t if any product it makes reaches
// gonum's native Sgemm or goes through gonum's blas32. It skips t where the
// CPU lacks AVX2+FMA: there the pure-Go build's selected Sgemm is gonum's.
func RequireSelected(t *testing.T, run func()) {
	t.Helper()
	if !blas.PackedSgemm() {
		t.Skip("this CPU lacks AVX2+FMA: the pure-Go build's selected Sgemm is gonum's own")
	}
	var calls atomic.Int64
	blas32.Use(trap{calls: &calls})
	defer blas32.Use(blas.Float32())
	before := blas.NativeSgemmCalls()
	run()
	if n := blas.NativeSgemmCalls() - before; n != 0 {
		t.Errorf("%d products went to gonum's native Sgemm (blas %s)", n, blas.Name())
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("%d products went through gonum's blas32 instead of package blas", n)
	}
}
