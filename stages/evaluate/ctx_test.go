package evaluate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/siamese-pipeline/siamese/model"
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

// TestEvaluateHonoursContext checks that the embedding and retrieval loops
// stop with ctx's error when it ends, from embedQueries, retrieval and
// anomaly down.
func TestEvaluateHonoursContext(t *testing.T) {
	env, w, data := loaded(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := embedQueries(ctx, env, w, data); !errors.Is(err, context.Canceled) {
		t.Errorf("embedQueries: err %v, want context.Canceled", err)
	}
	q, err := embedQueries(context.Background(), env, w, data)
	if err != nil || q == nil {
		t.Fatalf("embedQueries: %v, %v", q, err)
	}
	if _, err := retrieval(ctx, q, w.OutputDim()); !errors.Is(err, context.Canceled) {
		t.Errorf("retrieval: err %v, want context.Canceled", err)
	}
	if _, _, err := anomaly(ctx, w, data, q); !errors.Is(err, context.Canceled) {
		t.Errorf("anomaly: err %v, want context.Canceled", err)
	}
	if err := New().Run(ctx, env); !errors.Is(err, context.Canceled) {
		t.Errorf("Run: err %v, want context.Canceled", err)
	}
}

// loaded writes a small fixture and a random 16→8→4 network, and returns
// the stage's Env for them with the network and the data loaded.
func loaded(t *testing.T) (*runner.Env, *model.Weights, *data) {
	t.Helper()
	d := stagetest.Write(t, 300, 20)
	modelDir := filepath.Join(t.TempDir(), "model")
	os.MkdirAll(modelDir, 0o755)
	writeModel(t, modelDir, "linear")
	inputs := d.Inputs("images.npy", "labels.npy", "classes.txt", "triplets.arrow", "train_rows.npy", "test_rows.npy")
	inputs["model/"] = modelDir
	env, _ := stagetest.Env(t, New(), inputs, map[string]any{"queries": 100, "pca_points": 50})
	w, err := loadWeights(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	dt, err := loadData(env)
	if err != nil {
		t.Fatal(err)
	}
	return env, w, dt
}
