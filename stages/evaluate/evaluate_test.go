package evaluate

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

// writeModel writes a random 16→8→4 network.
func writeModel(t *testing.T, dir string, lastActivation string) {
	rng := rand.New(rand.NewPCG(3, 4))
	layer := func(in, out int, act string) artifacts.Dense {
		w := make([]float32, in*out)
		for i := range w {
			w[i] = float32(rng.NormFloat64()) / 4
		}
		return artifacts.Dense{In: in, Out: out, W: w, B: make([]float32, out), Activation: act}
	}
	side := stagetest.Side * stagetest.Side
	if err := artifacts.WriteMLP(dir, []artifacts.Dense{layer(side, 8, "relu"), layer(8, 4, lastActivation)}, nil); err != nil {
		t.Fatal(err)
	}
}

// evaluate runs the stage on the fixture d and returns its outputs'
// directory and metrics.
func evaluate(t *testing.T, d stagetest.Data) (string, Metrics) {
	t.Helper()
	modelDir := filepath.Join(t.TempDir(), "model")
	os.MkdirAll(modelDir, 0o755)
	writeModel(t, modelDir, "linear")
	inputs := d.Inputs("images.npy", "labels.npy", "classes.txt", "triplets.arrow", "train_rows.npy", "test_rows.npy")
	inputs["model/"] = modelDir
	env, out := stagetest.Env(t, New(), inputs, map[string]any{"queries": 100, "pca_points": 50})
	if err := New().Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	var m Metrics
	data, _ := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, png := range []string{"roc.png", "similarity_hist.png", "embedding_pca.png"} {
		if st, err := os.Stat(filepath.Join(out, png)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", png, err)
		}
	}
	return out, m
}

func TestEvaluateStage(t *testing.T) {
	d := stagetest.Write(t, 300, 20)
	out, m := evaluate(t, d)
	nTest := d.Triplets - d.Train
	if m.TestTriplets != nTest || m.Retrieval == nil || m.Queries != 100 || m.Reference == 0 || len(m.PerClass) != 3 ||
		m.PerClass[2].Name != "two" {
		t.Fatalf("metrics: %+v", m)
	}
	for name, v := range map[string]float64{"accuracy": m.BinaryAccuracy, "roc_auc": m.ROCAUC, "knn": m.KNN1, "map_at_r": m.MAPAtR,
		"anomaly": m.AnomalyMean} {
		if !(v > 0 && v <= 1) {
			t.Errorf("%s = %v", name, v)
		}
	}
	scores, err := artifacts.ReadArrow(filepath.Join(out, "scores.arrow"))
	if err != nil || scores.NumRows() != 2*nTest {
		t.Fatalf("scores.arrow: %v", err)
	}
	label, _ := scores.Int64("label")
	if label[0] != 1 || label[2*nTest-1] != 0 {
		t.Errorf("labels %v", label)
	}
	emb, err := artifacts.ReadArrow(filepath.Join(out, "embeddings.arrow"))
	if err != nil {
		t.Fatal(err)
	}
	if _, width, err := emb.FixedFloat32("anchor"); err != nil || width != 4 {
		t.Errorf("anchor column: width %d, %v", width, err)
	}
	if class, _ := emb.Int64("class"); class[0] < 0 {
		t.Errorf("classes unknown: %v", class)
	}
}

func TestEvaluateWithoutUnusedImages(t *testing.T) {
	d := stagetest.Write(t, 30, 40) // 96 training triplets use every image
	out, m := evaluate(t, d)
	if m.Retrieval != nil {
		t.Errorf("retrieval metrics without queries: %+v", m.Retrieval)
	}
	data, _ := os.ReadFile(filepath.Join(out, "metrics.json"))
	if strings.Contains(string(data), "knn") || !strings.Contains(string(data), "roc_auc") {
		t.Errorf("metrics.json: %s", data)
	}
}

func TestEvaluateRefusesOtherActivations(t *testing.T) {
	d := stagetest.Write(t, 60, 5)
	modelDir := t.TempDir()
	writeModel(t, modelDir, "relu")
	inputs := d.Inputs("images.npy", "labels.npy", "classes.txt", "triplets.arrow", "train_rows.npy", "test_rows.npy")
	inputs["model/"] = modelDir
	env, _ := stagetest.Env(t, New(), inputs, nil)
	if err := New().Run(context.Background(), env); err == nil || !strings.Contains(err.Error(), `activation "relu", want "linear"`) {
		t.Fatalf("got %v", err)
	}
}

// TestEvaluateUnequalClasses runs on four classes of unequal sizes, the
// smallest of which training uses up: it has no query image, so it has
// no anomaly AUROC, and the other classes still do.
func TestEvaluateUnequalClasses(t *testing.T) {
	d := stagetest.WriteSizes(t, []int{120, 40, 3, 70}, 20)
	_, m := evaluate(t, d)
	if m.Retrieval == nil {
		t.Fatalf("no retrieval metrics: %+v", m)
	}
	var names []string
	for _, c := range m.PerClass {
		names = append(names, c.Name)
		if !(c.AnomalyMean > 0 && c.AnomalyMean <= 1) {
			t.Errorf("class %s: anomaly AUROC %v", c.Name, c.AnomalyMean)
		}
	}
	if !slices.Equal(names, []string{"zero", "one", "three"}) {
		t.Errorf("per-class metrics of %v, want zero, one and three (two has no query)", names)
	}
}
