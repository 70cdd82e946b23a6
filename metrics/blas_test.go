package metrics

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/siamese-pipeline/siamese/internal/blastest"
)

// TestProductsUseSelectedBLAS fails if a product of the retrieval metrics
// reaches gonum's native Sgemm, directly or through gonum's blas32: they must
// use the backend package blas selects (OpenBLAS or our packed Sgemm).
func TestProductsUseSelectedBLAS(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	ref, refLabels := randEmb(r, 3000, 16, 5)
	query, queryLabels := randEmb(r, 300, 16, 5)
	blastest.RequireSelected(t, func() {
		if _, err := KNNAccuracies(context.Background(), ref, refLabels, query, queryLabels, 16, 1, 5); err != nil {
			t.Fatal(err)
		}
		if _, _, err := SelfRetrieval(context.Background(), query, queryLabels, 16); err != nil {
			t.Fatal(err)
		}
	})
}

// TestTilesAgree checks that tiny tiles (many row and column blocks, each
// consumed in parts) give the results of one tile, and that one pass over
// several k equals one pass per k.
func TestTilesAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	const dim = 6
	ref, refLabels := randEmb(r, 257, dim, 4)
	query, queryLabels := randEmb(r, 61, dim, 4)
	ks := []int{1, 2, 5, 9}
	run := func() ([]float64, [][]int, float64, float64) {
		acc, err := KNNAccuracies(context.Background(), ref, refLabels, query, queryLabels, dim, ks...)
		if err != nil {
			t.Fatal(err)
		}
		pred, err := knnPredictAll(context.Background(), ref, refLabels, query, dim, ks)
		if err != nil {
			t.Fatal(err)
		}
		p1, m, err := SelfRetrieval(context.Background(), ref, refLabels, dim)
		if err != nil {
			t.Fatal(err)
		}
		return acc, pred, p1, m
	}
	acc, pred, p1, m := run()
	for ki, k := range ks {
		if got := KNNAccuracy(ref, refLabels, query, queryLabels, dim, k); got != acc[ki] {
			t.Errorf("k=%d: alone %v, with the others %v", k, got, acc[ki])
		}
	}
	defer func(b, r, c int) { tileBytes, tileRows, tileCols = b, r, c }(tileBytes, tileRows, tileCols)
	tileBytes, tileRows, tileCols = 4*7*13, 7, 13
	acc2, pred2, p12, m2 := run()
	if !slices.Equal(acc, acc2) || p1 != p12 || m != m2 {
		t.Errorf("tiny tiles: acc %v p1 %v map %v, one tile: %v %v %v", acc2, p12, m2, acc, p1, m)
	}
	for ki := range ks {
		if !slices.Equal(pred[ki], pred2[ki]) {
			t.Errorf("k=%d: predictions differ with tiny tiles", ks[ki])
		}
	}
}

// TestRetrievalHonoursContext checks that a cancelled context stops both
// passes with its error.
func TestRetrievalHonoursContext(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	emb, labels := randEmb(r, 500, 8, 3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := KNNAccuracies(ctx, emb, labels, emb, labels, 8, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("KNNAccuracies: err %v, want context.Canceled", err)
	}
	if _, _, err := SelfRetrieval(ctx, emb, labels, 8); !errors.Is(err, context.Canceled) {
		t.Errorf("SelfRetrieval: err %v, want context.Canceled", err)
	}
}
