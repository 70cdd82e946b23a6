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

// A mined model's training images, as model.json names them, are the
// reference; every other image may be a query; metrics.json says so.
func TestEvaluateMinedModel(t *testing.T) {
	d := stagetest.Write(t, 300, 20)
	tests := []struct {
		name     string
		training map[string]any
		rows     []int64
		wantRef  int
		wantErr  string
	}{
		{"fixed", nil, nil, 0, ""},
		{"mined", map[string]any{"mining": "batch-all", "train_images": "train_images.npy", "held_out": "rows 200 on"},
			seq(200), 200, ""},
		{"outside", map[string]any{"mining": "batch-all", "train_images": "../x.npy"}, nil, 0, "outside the model"},
		{"bad row", map[string]any{"mining": "batch-all", "train_images": "train_images.npy"}, []int64{5, 300}, 0, "image 300"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			modelDir := filepath.Join(t.TempDir(), "model")
			os.MkdirAll(modelDir, 0o755)
			writeModel(t, modelDir, "linear")
			if tc.training != nil {
				layers, _, err := artifacts.ReadMLP(modelDir)
				if err != nil {
					t.Fatal(err)
				}
				if err := artifacts.WriteMLP(modelDir, layers, tc.training); err != nil {
					t.Fatal(err)
				}
			}
			if tc.rows != nil {
				if err := artifacts.WriteNPY(filepath.Join(modelDir, "train_images.npy"), tc.rows, len(tc.rows)); err != nil {
					t.Fatal(err)
				}
			}
			inputs := d.Inputs("images.npy", "labels.npy", "classes.txt", "triplets.arrow", "train_rows.npy", "test_rows.npy")
			inputs["model/"] = modelDir
			env, out := stagetest.Env(t, New(), inputs, map[string]any{"queries": 1000, "pca_points": 50})
			err := New().Run(context.Background(), env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one about %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var m Metrics
			data, _ := os.ReadFile(filepath.Join(out, "metrics.json"))
			if err := json.Unmarshal(data, &m); err != nil || m.Retrieval == nil {
				t.Fatalf("metrics.json: %v", err)
			}
			if tc.training == nil {
				if m.Mining != "fixed" || m.Reference+m.Queries != 300 {
					t.Errorf("fixed: mining %q, %d reference and %d queries", m.Mining, m.Reference, m.Queries)
				}
				return
			}
			if m.Mining != "batch-all" || m.HeldOut != "rows 200 on" || m.Reference != tc.wantRef || m.Queries != 300-tc.wantRef {
				t.Errorf("mining %q held out %q, %d reference and %d queries", m.Mining, m.HeldOut, m.Reference, m.Queries)
			}
		})
	}
}

func seq(n int) []int64 {
	v := make([]int64, n)
	for i := range v {
		v[i] = int64(i)
	}
	return v
}
