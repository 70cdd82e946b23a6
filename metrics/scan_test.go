package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAtLeast checks atLeast (AVX-512 where the CPU has it) against a plain
// loop, on every length around the vector width, with NaNs, ±0 and
// elements equal to the threshold.
func TestAtLeast(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 100; n++ {
		for _, tau := range []float32{-2, -0.5, 0, float32(math.Copysign(0, -1)), 0.25, 2, float32(math.NaN())} {
			s := make([]float32, n)
			for i := range s {
				switch r.IntN(6) {
				case 0:
					s[i] = float32(math.NaN())
				case 1:
					s[i] = tau
				case 2:
					s[i] = float32(math.Copysign(0, -1))
				default:
					s[i] = float32(r.Float64()*2 - 1)
				}
			}
			var want []int32
			for j, v := range s {
				if v >= tau {
					want = append(want, int32(j))
				}
			}
			idx := make([]int32, n+16) // 16 guards past the end
			for i := range idx {
				idx[i] = -7
			}
			got := idx[:atLeast(s, tau, idx[:n])]
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d tau=%v: %v, want %v", n, tau, got, want)
			}
			for _, g := range idx[n:] {
				if g != -7 {
					t.Fatalf("n=%d tau=%v: wrote past the end: %v", n, tau, idx[n:])
				}
			}
		}
	}
}
