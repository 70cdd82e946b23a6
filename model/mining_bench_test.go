package model

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkMinedLoss(b *testing.B) {
	for _, m := range Minings {
		b.Run(string(m), func(b *testing.B) {
			const n, d = 160, 128
			r := rand.New(rand.NewPCG(1, 2))
			e := randFloats(r, n*d, 1)
			y := make([]int32, n)
			for i := range y {
				y[i] = int32(i / 16)
			}
			de := make([]float32, n*d)
			var w minedWork
			for b.Loop() {
				minedLoss(e, y, n, d, m, 0.2, 0, nil, &w)
				minedLoss(e, y, n, d, m, 0.2, 1, de, &w)
			}
		})
	}
}

// BenchmarkMinedEpoch: one epoch of 20 batches of 10×16 images through the
// default network.
func BenchmarkMinedEpoch(b *testing.B) {
	const n = 3200
	r := rand.New(rand.NewPCG(1, 2))
	im := Images{N: n, Dim: 784, Data: randFloats(r, n*784, 1), Labels: make([]int32, n)}
	for i := range im.Labels {
		im.Labels[i] = int32(i % 10)
	}
	cfg := DefaultConfig()
	cfg.Epochs = 1
	for b.Loop() {
		if _, err := Fit(b.Context(), cfg, Mined(im, Batches{Mining: BatchAll, Classes: 10, PerClass: 16}), Triplets{}, TrainOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
