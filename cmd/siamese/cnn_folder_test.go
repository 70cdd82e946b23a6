package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/internal/pytest"
)

// TestFolderDatasetCNN runs pipeline.yaml through the command line on a
// folder of PNG files resized to 64×64 with train.arch cnn on mined
// batches with validation images: train saves conv blocks, evaluate scores
// the test and validation images apart, siamese score embeds the folder
// and a .npy with the CNN, and numpy recomputes the metrics from the saved
// files.
func TestFolderDatasetCNN(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline, small")
	}
	tmp := t.TempDir()
	src, root := filepath.Join(tmp, "inspection"), filepath.Join(tmp, "out")
	rng := rand.New(rand.NewPCG(5, 6))
	classes := []string{"bolt", "gear", "nut"}
	sizes := [][2]int{{64, 64}, {80, 70}, {33, 47}}
	for c, name := range classes {
		for i := range 30 {
			s := sizes[i%len(sizes)]
			writeClassPNG(t, filepath.Join(src, name, fmt.Sprintf("%02d.png", i)), s[0], s[1], c, rng)
		}
	}
	siamese := func(args ...string) (int, string) {
		code, out, errOut := inProcess(t, root, args...)
		return code, out + errOut
	}
	sets := []string{"--set", "ingest.dataset=folder", "--set", "ingest.source=" + src, "--set", "ingest.image_size=64",
		"--set", "triplets.per_class=6", "--set", "split.test_size=0.2",
		"--set", "train.arch=cnn", "--set", "train.conv=[4, 8]", "--set", "train.hidden=[16, 8]",
		"--set", "train.mining=batch-all", "--set", "train.classes_per_batch=3", "--set", "train.images_per_class=4",
		"--set", "train.train_images=90", "--set", "train.val_images=12", "--set", "train.epochs=2", "--set", "train.lr=0.001",
		"--set", "evaluate.queries=100", "--set", "evaluate.pca_points=50"}
	if code, out := siamese(append([]string{"run", "--no-gate"}, sets...)...); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	model := filepath.Join(root, "train/model")
	conv, layers, m, err := artifacts.ReadNet(model)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Image, []int{64, 64}) || len(conv) != 2 || conv[1].Out != 8 || layers[0].In != 16*16*8 {
		t.Fatalf("model.json: image %v, %d conv blocks, first dense layer takes %d", m.Image, len(conv), layers[0].In)
	}
	var metrics struct {
		ROCAUC           float64 `json:"roc_auc"`
		Queries          int     `json:"query_images"`
		ValidationImages string  `json:"validation_images"`
		Validation       *struct {
			Queries int     `json:"query_images"`
			KNN5    float64 `json:"knn_accuracy_k5"`
		} `json:"validation"`
	}
	data, err := os.ReadFile(filepath.Join(root, "evaluate/metrics.json"))
	if err != nil || json.Unmarshal(data, &metrics) != nil || !(metrics.ROCAUC > 0) || metrics.Validation == nil ||
		metrics.Validation.Queries != 12 || metrics.ValidationImages == "" || metrics.Queries == 0 {
		t.Fatalf("metrics.json: %s, %v", data, err)
	}

	t.Run("score embeds a folder and a .npy with the CNN", func(t *testing.T) {
		code, out := siamese("score", "--model", "latest", "--format", "csv", src)
		if code != 0 || strings.Count(out, ".png,") != 90 {
			t.Fatalf("score: exit %d\n%s", code, out)
		}
		code, out = siamese("score", "--model", "latest", "--format", "csv", filepath.Join(root, "ingest/images.npy"))
		if code != 0 || strings.Count(out, "images.npy[") != 90 {
			t.Fatalf("score .npy: exit %d\n%s", code, out)
		}
	})

	t.Run("the example script recomputes the metrics", func(t *testing.T) {
		python := pytest.Need(t, "numpy", "sklearn")
		if got, err := exec.Command(python, "../../examples/load_artifacts.py", "--artifacts", root, "--check").CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, got)
		}
	})
}
