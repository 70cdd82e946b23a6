package train

import (
	"context"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/model"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

// TestWeightsAsFromFloat64Arrays: the stage, gathering its batches from
// the uint8 images at the split's rows, writes the weights that training
// on the notebook's X_train and X_test (float64, read as float32) gives,
// bit for bit: the regression test of the data path it replaced.
func TestWeightsAsFromFloat64Arrays(t *testing.T) {
	d := stagetest.Write(t, 90, 40)
	set := map[string]any{"hidden": []int{8, 4}, "epochs": 3, "batch": 8, "lr": 0.01, "seed": 3}
	env, out := stagetest.Env(t, New(), d.Inputs(allInputs...), set)
	if err := New().Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	got, _, err := artifacts.ReadMLP(out + "/model")
	if err != nil {
		t.Fatal(err)
	}

	read := func(name string) model.Triplets {
		x, shape, err := artifacts.ReadNPYFloat32(d.Path(name))
		if err != nil {
			t.Fatal(err)
		}
		return model.Triplets{N: shape[0], Dim: shape[2], Data: x}
	}
	train, val := read("X_train.npy"), read("X_test.npy")
	cfg := model.DefaultConfig()
	cfg.Hidden, cfg.Epochs, cfg.Batch, cfg.LR, cfg.Seed, cfg.Input = []int{8, 4}, 3, 8, 0.01, 3, train.Dim
	res, err := model.Train(context.Background(), cfg, train, val, model.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, want := layersOf(res.Best)
	for i := range want {
		for j := range want[i].W {
			if got[i].W[j] != want[i].W[j] {
				t.Fatalf("layer %d weight %d: %v from the images, %v from the float64 arrays", i, j, got[i].W[j], want[i].W[j])
			}
		}
		for j := range want[i].B {
			if got[i].B[j] != want[i].B[j] {
				t.Fatalf("layer %d bias %d: %v from the images, %v from the float64 arrays", i, j, got[i].B[j], want[i].B[j])
			}
		}
	}
}
