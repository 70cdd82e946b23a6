package evaluate

import (
	"context"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/model"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

// TestEmbedTestAsFromXTest: the test triplets gathered from the uint8
// images a block at a time embed, bit for bit, as the notebook's X_test
// (float64, read as float32) embeds in one call; over more than one block.
func TestEmbedTestAsFromXTest(t *testing.T) {
	d := stagetest.Write(t, 300, 4000) // 12,000 triplets, 600 of them test triplets
	modelDir := t.TempDir()
	writeModel(t, modelDir, "linear")
	w, err := loadWeights(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	env, _ := stagetest.Env(t, New(), d.Inputs("images.npy", "labels.npy", "classes.txt", "triplets.arrow", "train_rows.npy", "test_rows.npy"), nil)
	data, err := loadData(env)
	if err != nil {
		t.Fatal(err)
	}
	got, err := embedTest(context.Background(), w, data)
	if err != nil {
		t.Fatal(err)
	}
	x, shape, err := artifacts.ReadNPYFloat32(d.Path("X_test.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if got.n != shape[0] || got.n <= embedBlock {
		t.Fatalf("%d test triplets, X_test has %d (want more than a block, %d)", got.n, shape[0], embedBlock)
	}
	want := model.Embed(w, x, 3*shape[0])
	for i := range want {
		if got.emb[i] != want[i] {
			t.Fatalf("embedding value %d: %v from the images, %v from X_test", i, got.emb[i], want[i])
		}
	}
	for i, r := range got.rows {
		if got.classes[i] != int(data.class[r]) {
			t.Fatalf("triplet %d: class %d, index says %d", i, got.classes[i], data.class[r])
		}
	}
}
