package train

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

var allInputs = []string{"images.npy", "labels.npy", "triplets.arrow", "train_rows.npy", "test_rows.npy"}

// The mined modes train on the first train_images images less those of
// the test triplets, say so in model.json, and repeat themselves.
func TestTrainStageMined(t *testing.T) {
	d := stagetest.Write(t, 90, 10)
	for _, mining := range []string{"batch-all", "batch-hard", "semi-hard"} {
		t.Run(mining, func(t *testing.T) {
			run := func() (string, []artifacts.Dense) {
				env, out := stagetest.Env(t, New(), d.Inputs(allInputs...), map[string]any{
					"hidden": []int{8, 4}, "epochs": 3, "lr": 0.01, "mining": mining, "classes_per_batch": 3,
					"images_per_class": 4, "train_images": 72, "schedule": "one-cycle", "margin": 0.2, "mirror": mining == "batch-all", "restore": "last"})
				if err := New().Run(context.Background(), env); err != nil {
					t.Fatal(err)
				}
				layers, _, err := artifacts.ReadMLP(filepath.Join(out, "model"))
				if err != nil {
					t.Fatal(err)
				}
				return out, layers
			}
			out, layers := run()
			rows, _, err := artifacts.ReadNPY[int64](filepath.Join(out, "model", TrainImagesFile))
			if err != nil {
				t.Fatal(err)
			}
			test := map[int64]bool{}
			tripl, err := artifacts.ReadArrow(d.Path("triplets.arrow"))
			if err != nil {
				t.Fatal(err)
			}
			testRows, _, _ := artifacts.ReadNPY[int64](d.Path("test_rows.npy"))
			for _, col := range []string{"anchor", "positive", "negative"} {
				c, _ := tripl.Int64(col)
				for _, r := range testRows {
					test[c[r]] = true
				}
			}
			var want []int64
			for i := range int64(72) {
				if !test[i] {
					want = append(want, i)
				}
			}
			if !slices.Equal(rows, want) || len(test) == 0 {
				t.Errorf("trained on %v, want the first 72 images less the %d of the test triplets: %v", rows, len(test), want)
			}
			var m struct {
				Training map[string]any `json:"training"`
			}
			data, _ := os.ReadFile(filepath.Join(out, "model", "model.json"))
			if err := json.Unmarshal(data, &m); err != nil || m.Training["mining"] != mining ||
				m.Training["train_images"] != TrainImagesFile || m.Training["held_out"] == "" ||
				m.Training["best_epoch"] != m.Training["epochs_run"] || m.Training["precision"] != "float32" { // restore: last
				t.Errorf("model.json training %v (%v)", m.Training, err)
			}
			if _, again := run(); !slices.Equal(again[0].W, layers[0].W) {
				t.Error("a second training with the same seed differs")
			}
		})
	}
}

// The default mode's model/ holds the network alone, as it always has.
func TestTrainStageFixedWritesNoTrainingImages(t *testing.T) {
	d := stagetest.Write(t, 60, 20)
	env, out := stagetest.Env(t, New(), d.Inputs(allInputs...), map[string]any{"hidden": []int{8, 4}, "epochs": 1})
	if err := New().Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(filepath.Join(out, "model"))
	var names []string
	for _, f := range files {
		names = append(names, f.Name())
	}
	if !slices.Equal(names, []string{"W0.npy", "W1.npy", "b0.npy", "b1.npy", "model.json"}) {
		t.Errorf("model/ holds %v", names)
	}
}

func TestTrainStageMinedRefuses(t *testing.T) {
	d := stagetest.Write(t, 60, 10)
	for _, set := range []map[string]any{
		{"mining": "batch-all", "train_images": 61},                                     // more than images.npy holds
		{"mining": "batch-all", "classes_per_batch": 4},                                 // 3 classes
		{"mining": "semi-hard", "schedule": "cosine", "warmup": 0.5, "train_images": 1}, // one image
	} {
		set["hidden"] = []int{4}
		env, _ := stagetest.Env(t, New(), d.Inputs(allInputs...), set)
		if err := New().Run(context.Background(), env); err == nil {
			t.Errorf("%v: no error", set)
		}
	}
}
