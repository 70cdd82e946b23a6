package evaluate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

// A model's validation images are scored apart: metrics.json's validation
// block has them as its queries, and the test queries are the other unused
// images; without validation images metrics.json has no such block.
func TestEvaluateValidationImages(t *testing.T) {
	d := stagetest.Write(t, 300, 20)
	for _, val := range [][]int64{nil, seqFrom(200, 240)} {
		modelDir := filepath.Join(t.TempDir(), "model")
		os.MkdirAll(modelDir, 0o755)
		writeModel(t, modelDir, "linear")
		training := map[string]any{"mining": "batch-all", "train_images": "train_images.npy", "held_out": "rows 200 on"}
		if val != nil {
			training["val_images"], training["validation"] = "val_images.npy", "the last 40 training images"
			if err := artifacts.WriteNPY(filepath.Join(modelDir, "val_images.npy"), val, len(val)); err != nil {
				t.Fatal(err)
			}
		}
		layers, _, err := artifacts.ReadMLP(modelDir)
		if err != nil {
			t.Fatal(err)
		}
		if err := artifacts.WriteMLP(modelDir, layers, training); err != nil {
			t.Fatal(err)
		}
		if err := artifacts.WriteNPY(filepath.Join(modelDir, "train_images.npy"), seq(200), 200); err != nil {
			t.Fatal(err)
		}
		inputs := d.Inputs("images.npy", "labels.npy", "classes.txt", "triplets.arrow", "train_rows.npy", "test_rows.npy", "X_test.npy")
		inputs["model/"] = modelDir
		env, out := stagetest.Env(t, New(), inputs, map[string]any{"queries": 1000, "pca_points": 50})
		if err := New().Run(context.Background(), env); err != nil {
			t.Fatal(err)
		}
		var m Metrics
		data, _ := os.ReadFile(filepath.Join(out, "metrics.json"))
		if err := json.Unmarshal(data, &m); err != nil || m.Retrieval == nil {
			t.Fatalf("metrics.json: %v", err)
		}
		if val == nil {
			if m.Validation != nil || m.ValidationImages != "" || m.Queries != 100 || strings.Contains(string(data), "validation") {
				t.Fatalf("no validation images: validation %+v, %d queries", m.Validation, m.Queries)
			}
			continue
		}
		v := m.Validation
		if v == nil || m.ValidationImages != "the last 40 training images" || v.Queries != 40 || v.Reference != 200 || m.Queries != 60 {
			t.Fatalf("validation %+v (%q), %d test queries", v, m.ValidationImages, m.Queries)
		}
		if !(v.KNN5 > 0) || !(v.AnomalyMean > 0) || len(v.PerClass) == 0 {
			t.Fatalf("validation metrics %+v", v)
		}
	}
}

func seqFrom(lo, hi int) []int64 {
	v := make([]int64, 0, hi-lo)
	for i := lo; i < hi; i++ {
		v = append(v, int64(i))
	}
	return v
}
