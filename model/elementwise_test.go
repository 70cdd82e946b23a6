package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestElementwiseMatchesGo: the vector loops give the Go loops' bits, for
// every length around the vector width and for any bit pattern (NaNs, −0,
// subnormals, infinities).
func TestElementwiseMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	special := []float32{0, float32(math.Copysign(0, -1)), 1e-45, -1e-45, float32(math.NaN()),
		-float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1, -1}
	gen := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			if rng.IntN(3) == 0 {
				s[i] = special[rng.IntN(len(special))]
			} else {
				s[i] = math.Float32frombits(rng.Uint32())
			}
		}
		return s
	}
	same := func(a, b []float32) bool {
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				return false
			}
		}
		return true
	}
	for n := range 41 {
		y, g, x := gen(n), gen(n), gen(n)

		got, want := append([]float32(nil), y...), append([]float32(nil), y...)
		reluInPlace(got)
		reluGo(want)
		if !same(got, want) {
			t.Errorf("n=%d: reluInPlace %v, Go loop %v", n, got, want)
		}

		relu := want // a relu output, as reluGrad expects
		got, want = make([]float32, n), make([]float32, n)
		reluGrad(relu, g, got)
		reluGradGo(relu, g, want)
		if !same(got, want) {
			t.Errorf("n=%d: reluGrad %v, Go loop %v", n, got, want)
		}

		// Finite values: NaN payloads of a sum are the CPU's business.
		for i := range x {
			x[i], y[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		got, want = append([]float32(nil), y...), append([]float32(nil), y...)
		addTo(got, x)
		addToGo(want, x)
		if !same(got, want) {
			t.Errorf("n=%d: addTo %v, Go loop %v", n, got, want)
		}
	}
	t.Logf("AVX2 loops: %v", useAVX2)
}
