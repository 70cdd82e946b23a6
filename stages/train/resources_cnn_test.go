package train

import (
	"testing"

	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

// A CNN's estimate grows with its conv blocks' scratch; an MLP's has none.
func TestResourcesCNN(t *testing.T) {
	mlp := stagetest.Params(New(), nil)
	cnn := stagetest.Params(New(), map[string]any{"arch": "cnn", "conv": []int{32, 64}, "mining": "batch-all"})
	if got := convScratch(mlp, 28); got != 0 {
		t.Fatalf("an MLP's conv scratch: %d", got)
	}
	// 160 images: 28×28 pixels of 2·9 + 2·32 + 8 floats, 14×14 of 2·9·32 + 2·64 + 16.
	want := int64(160*4) * (28*28*(18+64+8) + 14*14*(576+128+16))
	if got := convScratch(cnn, 28); got != want {
		t.Fatalf("conv scratch %d, want %d", got, want)
	}
}
