package notebook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/internal/pytest"
	"github.com/siamese-pipeline/siamese/internal/testenv"
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/stages/ingest"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
	"github.com/siamese-pipeline/siamese/stages/notebook"
	"github.com/siamese-pipeline/siamese/stages/split"
	"github.com/siamese-pipeline/siamese/stages/triplets"
)

const fashionDir = "/usr/share/datasets/fashion-mnist"

var paritySeeds = []int{0, 42, 12345}

// notebookScript runs the notebook's code literally for each seed and
// prints the SHA-256 of what np.save writes for each array. It also loads
// the Keras way (gzip + np.frombuffer) when given the IDX directory.
const notebookScript = `
import gzip, hashlib, json, os, sys
import numpy as np
from sklearn.model_selection import train_test_split

class Hasher:
    def __init__(self): self.h = hashlib.sha256()
    def write(self, b): self.h.update(b); return len(b)

def digest(a):
    h = Hasher(); np.save(h, a); return h.h.hexdigest()

cfg = json.load(open(sys.argv[1]))
out = {}
if cfg.get("idx_dir"):
    # keras.datasets.fashion_mnist.load_data()
    d = cfg["idx_dir"]
    def lab(f):
        with gzip.open(os.path.join(d, f), "rb") as p: return np.frombuffer(p.read(), np.uint8, offset=8)
    def img(f, n):
        with gzip.open(os.path.join(d, f), "rb") as p: return np.frombuffer(p.read(), np.uint8, offset=16).reshape(n, 28, 28)
    y_train = lab("train-labels-idx1-ubyte.gz"); x_train = img("train-images-idx3-ubyte.gz", len(y_train))
    y_test = lab("t10k-labels-idx1-ubyte.gz"); x_test = img("t10k-images-idx3-ubyte.gz", len(y_test))
    images = np.concatenate([x_train, x_test]); labels = np.concatenate([y_train, y_test])
    out["images"] = digest(images); out["labels"] = digest(labels)
else:
    images = np.load(cfg["images"]); labels = np.load(cfg["labels"])
per_class = cfg["per_class"]
for seed in cfg["seeds"]:
    np.random.seed(seed)
    triplets = []
    for c in range(10):
        anchor_indices = np.where(labels == c)[0]; positive_indices = anchor_indices; negative_indices = np.where(labels != c)[0]
        for _ in range(per_class):
            a = np.random.choice(anchor_indices); p = np.random.choice(positive_indices); n = np.random.choice(negative_indices)
            triplets.append([images[a], images[p], images[n]])
    triplets = np.array(triplets)
    r = {"array": digest(triplets)}
    N = len(triplets)
    flat = (triplets / 255).reshape(N, 3, 784)
    r["flatten"] = digest(flat)
    X_train, X_test, _, _ = train_test_split(flat, np.ones(N), test_size=0.05, random_state=seed)
    r["X_train"] = digest(X_train); r["X_test"] = digest(X_test)
    train_rows, test_rows = train_test_split(np.arange(N, dtype=np.int64), test_size=0.05, random_state=seed)
    r["train_rows"] = digest(train_rows); r["test_rows"] = digest(test_rows)
    out[str(seed)] = r
json.dump(out, sys.stdout)
`

// loadScript np.loads each file and prints its dtype and shape.
const loadScript = `
import json, sys
import numpy as np
out = {}
for p in sys.argv[1:]:
    a = np.load(p, mmap_mode="r")
    out[p] = [str(a.dtype), list(a.shape)]
json.dump(out, sys.stdout)
`

func needPython(t *testing.T) {
	t.Helper()
	pytest.Need(t, "numpy", "sklearn")
}

// python runs script with the JSON of cfg (if not nil) as a file argument
// before args, and returns its standard output.
func python(script string, cfg any, args ...string) ([]byte, error) {
	if cfg != nil {
		b, err := json.Marshal(cfg)
		if err != nil {
			return nil, err
		}
		f, err := os.CreateTemp("", "parity-*.json")
		if err != nil {
			return nil, err
		}
		defer os.Remove(f.Name())
		if _, err := f.Write(b); err != nil {
			f.Close()
			return nil, err
		}
		f.Close()
		args = append([]string{f.Name()}, args...)
	}
	cmd := exec.Command(pytest.Python, append([]string{"-c", script}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("python: %v\n%s", err, stderr.String())
	}
	return out, nil
}

// run runs stage s with inputs and outputs in dir (by their names).
func run(t *testing.T, s runner.Stage, dir string, set map[string]any) {
	t.Helper()
	spec := s.Spec()
	in, out := map[string]string{}, map[string]string{}
	for _, n := range spec.Inputs {
		in[n] = filepath.Join(dir, n)
	}
	for _, n := range spec.Outputs {
		out[n] = filepath.Join(dir, n)
	}
	env := runner.NewEnv("test", stagetest.Params(s, set), in, out, t.TempDir(), nil)
	if err := s.Run(context.Background(), env); err != nil {
		t.Fatalf("%T: %v", s, err)
	}
}

// TestNotebookParity runs triplets → split → notebook for each seed and
// compares every array, byte for byte, with what the notebook's code
// writes: on a synthetic dataset at per_class 20, and on the real
// Fashion-MNIST (ingested from Debian's files) at per_class 3000.
func TestNotebookParity(t *testing.T) {
	needPython(t)
	cases := []struct {
		name     string
		perClass int
		real     bool
	}{
		{"synthetic", 20, false},
		{"fashion-mnist", 3000, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.real && testing.Short() {
				t.Skip("real-data parity skipped in -short mode")
			}
			base := t.TempDir()
			cfg := map[string]any{"seeds": paritySeeds, "per_class": tc.perClass}
			if tc.real {
				if _, err := os.Stat(fashionDir); err != nil {
					testenv.Missing(t, fmt.Sprintf("Fashion-MNIST not installed at %s (Debian's dataset-fashion-mnist): %v", fashionDir, err))
				}
				run(t, ingest.New(), base, map[string]any{"source": fashionDir})
				cfg["idx_dir"] = fashionDir
			} else {
				stagetest.Dataset(t, base, 500, 10, rand.New(rand.NewPCG(1, 2)))
				cfg["images"], cfg["labels"] = filepath.Join(base, "images.npy"), filepath.Join(base, "labels.npy")
			}
			// numpy's side runs while ours does.
			type pyResult struct {
				out []byte
				err error
			}
			pyDone := make(chan pyResult, 1)
			go func() {
				out, err := python(notebookScript, cfg)
				pyDone <- pyResult{out, err}
			}()

			type result map[string]string
			got := map[string]result{}
			for _, seed := range paritySeeds {
				dir := filepath.Join(base, "seed"+itoa(seed))
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for _, n := range []string{"images.npy", "labels.npy"} {
					if err := os.Link(filepath.Join(base, n), filepath.Join(dir, n)); err != nil {
						t.Fatal(err)
					}
				}
				run(t, triplets.New(), dir, map[string]any{"per_class": tc.perClass, "seed": seed})
				run(t, split.New(), dir, map[string]any{"seed": seed})
				run(t, notebook.New(), dir, nil)
				r := result{}
				for k, f := range map[string]string{
					"array": notebook.OutArray, "flatten": notebook.OutFlat,
					"X_train": notebook.OutXTrain, "X_test": notebook.OutXTest,
					"train_rows": split.OutTrainRows, "test_rows": split.OutTestRows,
				} {
					r[k] = stagetest.FileSHA(t, filepath.Join(dir, f))
				}
				got[itoa(seed)] = r
				checkLoads(t, dir, tc.perClass*10)
				// Keep the disk small: the large files are checked.
				for _, f := range []string{notebook.OutFlat, notebook.OutXTrain, notebook.OutXTest} {
					os.Remove(filepath.Join(dir, f))
				}
			}
			py := <-pyDone
			if py.err != nil {
				t.Fatal(py.err)
			}
			var want map[string]json.RawMessage
			if err := json.Unmarshal(py.out, &want); err != nil {
				t.Fatal(err)
			}
			if tc.real {
				for _, k := range []string{"images", "labels"} {
					var w string
					json.Unmarshal(want[k], &w)
					if g := stagetest.FileSHA(t, filepath.Join(base, k+".npy")); g != w {
						t.Errorf("%s.npy: sha256 %s, numpy's (Keras load_data) %s", k, g, w)
					}
				}
			}
			for _, seed := range paritySeeds {
				var w result
				if err := json.Unmarshal(want[itoa(seed)], &w); err != nil {
					t.Fatal(err)
				}
				for k, g := range got[itoa(seed)] {
					if g != w[k] {
						t.Errorf("seed %d: %s: sha256 %s, numpy's %s", seed, k, g, w[k])
					}
				}
			}
		})
	}
}

// checkLoads has numpy load each array of dir and checks its dtype and
// shape.
func checkLoads(t *testing.T, dir string, n int) {
	t.Helper()
	var paths []string
	for _, f := range []string{notebook.OutArray, notebook.OutFlat, notebook.OutXTrain, notebook.OutXTest, split.OutTrainRows, split.OutTestRows} {
		paths = append(paths, filepath.Join(dir, f))
	}
	var got map[string][2]json.RawMessage
	out, err := python(loadScript, nil, paths...)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	nTest := (n*5 + 99) / 100 // ceil(0.05 n)
	want := map[string]string{
		notebook.OutArray:  `"uint8" [` + itoa(n) + `,3,28,28]`,
		notebook.OutFlat:   `"float64" [` + itoa(n) + `,3,784]`,
		notebook.OutXTrain: `"float64" [` + itoa(n-nTest) + `,3,784]`,
		notebook.OutXTest:  `"float64" [` + itoa(nTest) + `,3,784]`,
		split.OutTrainRows: `"int64" [` + itoa(n-nTest) + `]`,
		split.OutTestRows:  `"int64" [` + itoa(nTest) + `]`,
	}
	for _, p := range paths {
		g := strings.ReplaceAll(string(got[p][0])+" "+string(got[p][1]), " ", "")
		w := strings.ReplaceAll(want[filepath.Base(p)], " ", "")
		if g != w {
			t.Errorf("np.load(%s): %s, want %s", p, g, w)
		}
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
