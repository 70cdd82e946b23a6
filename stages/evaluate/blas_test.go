package evaluate

import (
	"testing"

	"github.com/siamese-pipeline/siamese/internal/blastest"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

// TestProductsUseSelectedBLAS fails if a product of the stage (embeddings,
// retrieval, anomaly scores) reaches gonum's native Sgemm, directly or
// through gonum's blas32, instead of the backend package blas selects.
func TestProductsUseSelectedBLAS(t *testing.T) {
	d := stagetest.Write(t, 300, 20)
	blastest.RequireSelected(t, func() {
		if _, m := evaluate(t, d); m.Retrieval == nil {
			t.Fatal("no retrieval metrics: the test covers too little")
		}
	})
}
