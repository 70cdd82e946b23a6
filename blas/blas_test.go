package blas

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestSelected(t *testing.T) {
	t.Logf("blas=%s threads=%d", Name(), Threads())
	if G.WhichBLAS() != impl || tensor.WhichBLAS() != impl {
		t.Fatalf("gorgonia/tensor BLAS not the selected %s", Name())
	}
	// 2x3 · 3x2
	a := []float32{1, 2, 3, 4, 5, 6}
	b := []float32{1, 0, 0, 1, 1, 1}
	c := make([]float32, 4)
	Float32().Sgemm('N', 'N', 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	want := []float32{4, 5, 10, 11}
	for i := range c {
		if c[i] != want[i] {
			t.Fatalf("sgemm = %v, want %v", c, want)
		}
	}
}
