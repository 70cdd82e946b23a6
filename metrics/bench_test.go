package metrics

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkKNN10kx60k is the full-size case: 10k queries against 60k
// references in 128 dimensions, k=5.
//
//	go test -run '^$' -bench KNN10k -benchtime 1x ./metrics/
func BenchmarkKNN10kx60k(b *testing.B) {
	benchKNN(b, 10000, 60000, 128, 5)
}

// BenchmarkKNNSmall is a quicker 1k×10k×128 case.
func BenchmarkKNNSmall(b *testing.B) {
	benchKNN(b, 1000, 10000, 128, 5)
}

// BenchmarkMAPAtR10k is leave-one-out MAP@R on 10k items (10 classes).
func BenchmarkMAPAtR10k(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	emb, labels := randEmb(r, 10000, 128, 10)
	b.ResetTimer()
	for range b.N {
		MAPAtR(emb, labels, 128)
	}
}

func benchKNN(b *testing.B, nq, nr, dim, k int) {
	r := rand.New(rand.NewPCG(1, 1))
	ref, refLabels := randEmb(r, nr, dim, 10)
	query, queryLabels := randEmb(r, nq, dim, 10)
	b.ResetTimer()
	for range b.N {
		KNNAccuracy(ref, refLabels, query, queryLabels, dim, k)
	}
}
