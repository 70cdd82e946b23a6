package evaluate

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

// A test triplet holding a NaN fails the stage, naming the file, before
// it could turn every metric into NaN.
func TestNonFiniteTestTripletsRefused(t *testing.T) {
	d := stagetest.Write(t, 300, 20)
	x, shape, err := artifacts.ReadNPY[float64](d.Path("X_test.npy"))
	if err != nil {
		t.Fatal(err)
	}
	x[len(x)/2] = math.NaN()
	bad := filepath.Join(t.TempDir(), "X_test.npy")
	if err := artifacts.WriteNPY(bad, x, shape...); err != nil {
		t.Fatal(err)
	}
	modelDir := filepath.Join(t.TempDir(), "model")
	os.MkdirAll(modelDir, 0o755)
	writeModel(t, modelDir, "linear")
	inputs := d.Inputs("images.npy", "labels.npy", "classes.txt", "triplets.arrow", "train_rows.npy", "test_rows.npy")
	inputs["model/"], inputs["X_test.npy"] = modelDir, bad
	env, _ := stagetest.Env(t, New(), inputs, map[string]any{"queries": 100, "pca_points": 50})
	err = New().Run(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "X_test.npy") || !strings.Contains(err.Error(), "finite") {
		t.Fatalf("evaluate on a NaN test triplet: %v, want it refused naming X_test.npy", err)
	}
}
