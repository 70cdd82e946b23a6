package blas

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	gblas "gonum.org/v1/gonum/blas"
)

// TestSerialEqualsParallel checks that Serial's products equal Float32's
// bit for bit, transposed or not, with and without beta, on shapes large
// enough that Float32 splits them over goroutines, by rows or by columns.
func TestSerialEqualsParallel(t *testing.T) {
	if _, ok := Serial(); !ok {
		t.Skip("the selected BLAS keeps its own threads")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4)) // so that Float32 splits
	eachKernel(func(name string) {
		serial, _ := Serial()
		r := rand.New(rand.NewPCG(31, 32))
		for _, tc := range []struct {
			tA, tB  gblas.Transpose
			m, n, k int
			beta    float32
		}{
			{gblas.NoTrans, gblas.NoTrans, 300, 512, 784, 1},
			{gblas.NoTrans, gblas.Trans, 257, 129, 128, 0},
			{gblas.Trans, gblas.NoTrans, 784, 512, 96, 0},
			{gblas.Trans, gblas.Trans, 33, 700, 65, 0.5},
			{gblas.Trans, gblas.NoTrans, 9, 32, 8192, 0}, // one panel of columns: split by rows
		} {
			d := gemmCase{tA: tc.tA, tB: tc.tB, m: tc.m, n: tc.n, k: tc.k, alpha: 1, beta: tc.beta}.data(r)
			want, got := append([]float32(nil), d.c...), append([]float32(nil), d.c...)
			Float32().Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, d.a, d.lda, d.b, d.ldb, tc.beta, want, d.ldc)
			serial.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, d.a, d.lda, d.b, d.ldb, tc.beta, got, d.ldc)
			for i := range want {
				if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
					t.Fatalf("%s %c%c %dx%dx%d: element %d: serial %v, parallel %v", name, tc.tA, tc.tB, tc.m, tc.n, tc.k, i, got[i], want[i])
				}
			}
		}
	})
}

// TestSerialOf: Float32 and Serial give Serial's products; BF16's do not
// split.
func TestSerialOf(t *testing.T) {
	serial, ok := Serial()
	for _, impl := range []gblas.Float32{Float32(), serial} {
		got, gotOK := SerialOf(impl)
		if gotOK != ok || (ok && got != serial) {
			t.Errorf("SerialOf(%T) = %T, %v; Serial() = %T, %v", impl, got, gotOK, serial, ok)
		}
	}
	if _, ok := SerialOf(BF16()); ok {
		t.Error("SerialOf(BF16()) is ok")
	}
}
