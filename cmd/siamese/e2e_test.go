package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/internal/pytest"
	"github.com/siamese-pipeline/siamese/internal/synthidx"
	"github.com/siamese-pipeline/siamese/internal/testenv"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/stages"
)

// writeIDX writes a full-size synthetic Fashion-MNIST whose classes are
// easy to tell apart (synthidx.Bands).
func writeIDX(t *testing.T, dir string) {
	t.Helper()
	if err := synthidx.Write(dir, synthidx.Bands); err != nil {
		t.Fatal(err)
	}
}

// writeLearnableIDX writes a full-size synthetic Fashion-MNIST that a
// model must learn to tell apart (synthidx.Learnable): an untrained
// network scores a ROC AUC near 0.57 on its triplets; a trained one
// (learning rate 1e-4, three epochs of 1,900 triplets) about 0.99.
func writeLearnableIDX(t *testing.T, dir string) {
	t.Helper()
	if err := synthidx.Write(dir, synthidx.Learnable); err != nil {
		t.Fatal(err)
	}
}

// TestEndToEnd runs the repository's pipeline.yaml, small, through the
// command line, and checks what a notebook user would open.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("the end-to-end run takes a while")
	}
	tmp := t.TempDir()
	src, root := filepath.Join(tmp, "fashion"), filepath.Join(tmp, "artifacts")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	writeLearnableIDX(t, src)
	file, err := filepath.Abs("../../pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	siamese := func(args ...string) (int, string) {
		code, out, errOut := inProcess(t, root, args...)
		return code, out + errOut
	}
	sets := []string{"--no-gate", "--set", "ingest.source=" + src, "--set", "triplets.per_class=200", "--set", "train.epochs=3",
		"--set", "train.lr=0.0001",
		"--set", "evaluate.queries=1000", "--set", "evaluate.pca_points=300"}

	if code, out := siamese(append([]string{"run"}, sets...)...); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	p, err := pipeline.Load(file, stages.Registry(), root)
	if err != nil {
		t.Fatal(err)
	}
	var npys, arrows []string
	for _, s := range p.Stages {
		for _, o := range s.Outs {
			full := filepath.Join(root, o.Path)
			if _, err := os.Stat(full); err != nil {
				t.Errorf("stage %s: %v", s.Name, err)
			}
			switch filepath.Ext(o.Path) {
			case ".npy":
				npys = append(npys, full)
			case ".arrow":
				arrows = append(arrows, full)
			}
		}
	}
	npys = append(npys, filepath.Join(root, "train/model/W0.npy"), filepath.Join(root, "train/model/b2.npy"))

	code, out := siamese(append([]string{"run"}, sets...)...)
	if code != 0 || strings.Count(out, "cached") != len(p.Stages) {
		t.Errorf("second run did not skip every stage: exit %d\n%s", code, out)
	}

	var m map[string]any
	data, err := os.ReadFile(filepath.Join(root, "evaluate/metrics.json"))
	if err != nil || json.Unmarshal(data, &m) != nil {
		t.Fatalf("metrics.json: %v", err)
	}
	// The model learnt: an untrained one scores about 0.57, 0.8 and 0.5.
	for k, least := range map[string]float64{"roc_auc": 0.9, "knn_accuracy_k1": 0.9, "anomaly_auroc_mean_embedding": 0.9,
		"best_accuracy": 0.85, "binary_accuracy": 0.6, "map_at_r": 0.5} {
		if v, ok := m[k].(float64); !ok || v < least || v > 1 {
			t.Errorf("metric %s = %v, want at least %v", k, m[k], least)
		}
	}
	if n, _ := m["test_triplets"].(float64); n != 100 {
		t.Errorf("metrics over %v test triplets, want 100", m["test_triplets"])
	}

	t.Run("numpy loads every array", func(t *testing.T) {
		python := pytest.Need(t, "numpy")
		want := map[string]string{
			"images.npy": "uint8 (70000, 28, 28)", "labels.npy": "uint8 (70000,)",
			"triplets_fasion_MNIST_array.npy": "uint8 (2000, 3, 28, 28)", "triplets_fasion_MNIST_flatten.npy": "float64 (2000, 3, 784)",
			"X_train.npy": "float64 (1900, 3, 784)", "X_test.npy": "float64 (100, 3, 784)",
			"train_rows.npy": "int64 (1900,)", "test_rows.npy": "int64 (100,)",
			"W0.npy": "float32 (784, 512)", "b2.npy": "float32 (128,)",
			"anchors.npy": "float32 (10, 128)",
		}
		script := "import sys, numpy as np\nfor f in sys.argv[1:]:\n    a = np.load(f)\n    print(f, a.dtype, a.shape)\n"
		got, err := exec.Command(python, append([]string{"-c", script}, npys...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, got)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(got)), "\n") {
			f, desc, _ := strings.Cut(line, " ")
			if w := want[filepath.Base(f)]; desc != w {
				t.Errorf("%s: numpy sees %s, want %s", filepath.Base(f), desc, w)
			}
		}
	})

	t.Run("numpy's forward pass reproduces our embeddings", func(t *testing.T) {
		python := pytest.Need(t, "numpy")
		out := filepath.Join(tmp, "numpy_embeddings.npy")
		script := `import json, sys, numpy as np
root, out = sys.argv[1], sys.argv[2]
spec = json.load(open(f"{root}/train/model/model.json"))
x = np.load(f"{root}/split/X_test.npy").astype(np.float32).reshape(-1, spec["input"])
for layer in spec["layers"]:
    x = x @ np.load(f"{root}/train/model/{layer['weights']}") + np.load(f"{root}/train/model/{layer['bias']}")
    if layer["activation"] == "relu":
        x = np.maximum(x, 0)
np.save(out, x)
`
		if got, err := exec.Command(python, "-c", script, root, out).CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, got)
		}
		want, shape, err := artifacts.ReadNPY[float32](out)
		if err != nil {
			t.Fatal(err)
		}
		table, err := artifacts.ReadArrow(filepath.Join(root, "evaluate/embeddings.arrow"))
		if err != nil {
			t.Fatal(err)
		}
		dim := shape[1]
		worst := 0.0
		for k, col := range []string{"anchor", "positive", "negative"} {
			got, width, err := table.FixedFloat32(col)
			if err != nil || width != dim || len(got)*3 != len(want) {
				t.Fatalf("%s: width %d, %d values, %v", col, width, len(got), err)
			}
			for i := range len(got) / dim {
				for j := range dim {
					worst = max(worst, math.Abs(float64(got[i*dim+j]-want[(3*i+k)*dim+j])))
				}
			}
		}
		if worst > 1e-5 {
			t.Errorf("numpy's embeddings differ from ours by up to %g", worst)
		}
	})

	t.Run("the example script recomputes the metrics", func(t *testing.T) {
		python := pytest.Need(t, "numpy", "sklearn")
		if got, err := exec.Command(python, "../../examples/load_artifacts.py", "--artifacts", root, "--check").CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, got)
		}
		if _, err := os.Stat("../../interop/node_modules/apache-arrow"); err != nil {
			testenv.Missing(t, "interop/node_modules is missing: run npm ci --prefix interop")
		}
		if got, err := exec.Command("node", "../../examples/check_arrow.mjs", root).CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, got)
		}
	})

	t.Run("Jupyter executes the notebook", func(t *testing.T) { executeNotebook(t, root) })

	t.Run("Node's apache-arrow reads every table", func(t *testing.T) {
		reader, err := filepath.Abs("../../interop/read_arrow.mjs")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(reader), "node_modules", "apache-arrow")); err != nil {
			testenv.Missing(t, "interop/node_modules is missing: run npm ci --prefix interop")
		}
		for _, f := range arrows {
			got, err := exec.Command("node", reader, f).Output()
			var v struct{ NumRows int }
			if err != nil || json.Unmarshal(got, &v) != nil || v.NumRows == 0 {
				t.Errorf("%s: %v", filepath.Base(f), err)
			}
		}
	})

	// Last, as it removes the notebook's arrays: with the switch off, no
	// stage writes them, and every other output is the default's, byte
	// for byte.
	t.Run("notebook_arrays off", func(t *testing.T) {
		notebook := p.Stage("notebook")
		want := map[string][]byte{}
		for _, s := range p.Stages {
			for _, o := range s.Outs {
				if s == notebook || o.Dir || strings.HasSuffix(o.Path, ".png") || strings.HasSuffix(o.Path, "history.arrow") {
					continue // pictures and epoch times differ from run to run
				}
				want[o.Path], _ = os.ReadFile(filepath.Join(root, o.Path))
			}
		}
		for _, f := range []string{"W0.npy", "W1.npy", "W2.npy", "b0.npy", "b1.npy", "b2.npy", "model.json"} {
			want["train/model/"+f], _ = os.ReadFile(filepath.Join(root, "train/model", f))
		}
		for _, o := range notebook.Outs {
			os.Remove(filepath.Join(root, o.Path))
		}
		code, out := siamese(append([]string{"run", "--force", "--notebook-arrays=false"}, sets...)...)
		if code != 0 || !strings.Contains(out, "notebook  not selected") || !strings.Contains(out, "off: notebook_arrays is false") {
			t.Fatalf("run --notebook-arrays=false: exit %d\n%s", code, out)
		}
		for _, o := range notebook.Outs {
			if _, err := os.Stat(filepath.Join(root, o.Path)); err == nil {
				t.Errorf("%s written with the notebook's arrays off", o.Path)
			}
		}
		for path, w := range want {
			if got, err := os.ReadFile(filepath.Join(root, path)); err != nil || !bytes.Equal(got, w) {
				t.Errorf("%s differs from the default run's (%v)", path, err)
			}
		}
		if _, out := siamese("status"); !strings.Contains(out, "notebook  never run") && !strings.Contains(out, "notebook  stale") {
			t.Errorf("status with the switch on in the file: the notebook stage should be due\n%s", out)
		}
	})
}
