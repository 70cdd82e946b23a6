package triplets

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/internal/pytest"
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

// notebookLoop is the notebook's loop, literally, after np.random.seed;
// it prints the SHA-256 of np.save(np.array(triplets)) and the drawn rows.
const notebookLoop = `
import hashlib, json, sys
import numpy as np
images = np.load(sys.argv[1]); labels = np.load(sys.argv[2]); per_class = int(sys.argv[3])
class Hasher:
    def __init__(self): self.h = hashlib.sha256()
    def write(self, b): self.h.update(b); return len(b)
out = {}
for seed in json.loads(sys.argv[4]):
    np.random.seed(seed)
    triplets = []; rows = []
    for c in range(10):
        anchor_indices = np.where(labels == c)[0]; positive_indices = anchor_indices; negative_indices = np.where(labels != c)[0]
        for _ in range(per_class):
            a = np.random.choice(anchor_indices); p = np.random.choice(positive_indices); n = np.random.choice(negative_indices)
            triplets.append([images[a], images[p], images[n]])
            rows += [int(a), int(p), int(n)]
    out[str(seed)] = {"rows": rows}
json.dump(out, sys.stdout)
`

func run(ctx context.Context, t *testing.T, dir string, set map[string]any) error {
	t.Helper()
	p := stagetest.Params(New(), set)
	env := runner.NewEnv("triplets", p,
		map[string]string{InImages: filepath.Join(dir, InImages), InLabels: filepath.Join(dir, InLabels)},
		map[string]string{OutIndex: filepath.Join(dir, OutIndex)},
		t.TempDir(), nil)
	return New().Run(ctx, env)
}

// index reads triplets.arrow back as rows (anchor, positive, negative
// interleaved) after checking its other columns.
func index(t *testing.T, dir string, perClass int) []int64 {
	t.Helper()
	tab, err := artifacts.ReadArrow(filepath.Join(dir, OutIndex))
	if err != nil {
		t.Fatal(err)
	}
	labels, _, err := artifacts.ReadNPY[uint8](filepath.Join(dir, InLabels))
	if err != nil {
		t.Fatal(err)
	}
	id, err1 := tab.Int64("id")
	cls, err2 := tab.Int64("class")
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	var rows []int64
	cols := map[string][]int64{}
	for _, role := range []string{"anchor", "positive", "negative"} {
		r, err := tab.Int64(role)
		if err != nil {
			t.Fatal(err)
		}
		l, err := tab.Uint8(role + "_label")
		if err != nil {
			t.Fatal(err)
		}
		for i := range r {
			if labels[r[i]] != l[i] {
				t.Fatalf("row %d: %s_label %d, labels.npy[%d] = %d", i, role, l[i], r[i], labels[r[i]])
			}
		}
		cols[role] = r
	}
	for i := range id {
		if id[i] != int64(i) || cls[i] != int64(i/perClass) {
			t.Fatalf("row %d: id %d class %d", i, id[i], cls[i])
		}
		c := uint8(cls[i])
		if labels[cols["anchor"][i]] != c || labels[cols["positive"][i]] != c || labels[cols["negative"][i]] == c {
			t.Fatalf("row %d of class %d: labels %d %d %d", i, c, labels[cols["anchor"][i]], labels[cols["positive"][i]], labels[cols["negative"][i]])
		}
		rows = append(rows, cols["anchor"][i], cols["positive"][i], cols["negative"][i])
	}
	return rows
}

func TestNumpyParity(t *testing.T) {
	pytest.Need(t, "numpy")
	const perClass = 20
	seeds := []int{0, 42, 12345}
	base := t.TempDir()
	stagetest.Dataset(t, base, 700, 10, rand.New(rand.NewPCG(3, 4)))
	seedsJSON, _ := json.Marshal(seeds)
	cmd := exec.Command(pytest.Python, "-c", notebookLoop, filepath.Join(base, InImages), filepath.Join(base, InLabels), "20", string(seedsJSON))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	var want map[string]struct {
		Rows []int64 `json:"rows"`
	}
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for _, seed := range seeds {
		dir := filepath.Join(base, "seed"+jsonInt(seed))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{InImages, InLabels} {
			os.Link(filepath.Join(base, f), filepath.Join(dir, f))
		}
		if err := run(context.Background(), t, dir, map[string]any{"per_class": perClass, "seed": seed}); err != nil {
			t.Fatal(err)
		}
		w := want[jsonInt(seed)]
		if got := index(t, dir, perClass); !slices.Equal(got, w.Rows) {
			t.Errorf("seed %d: rows differ from numpy's:\n got %v\nwant %v", seed, got[:9], w.Rows[:9])
		}
	}
}

func jsonInt(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestPerClass(t *testing.T) {
	dir := t.TempDir()
	stagetest.Dataset(t, dir, 300, 4, rand.New(rand.NewPCG(3, 4))) // 4 classes, derived from the labels
	draw := func() ([]int64, string) {
		if err := run(context.Background(), t, dir, map[string]any{"per_class": 50, "seed": 7, "rng": RNGPerClass}); err != nil {
			t.Fatal(err)
		}
		return index(t, dir, 50), stagetest.FileSHA(t, filepath.Join(dir, OutIndex))
	}
	rows1, sha1 := draw()
	rows2, sha2 := draw()
	if len(rows1) != 3*4*50 {
		t.Fatalf("%d rows, want %d", len(rows1), 3*4*50)
	}
	if !slices.Equal(rows1, rows2) || sha1 != sha2 {
		t.Error("per-class draws differ between runs")
	}
	if err := run(context.Background(), t, dir, map[string]any{"per_class": 50, "seed": 7}); err != nil {
		t.Fatal(err)
	}
	if slices.Equal(index(t, dir, 50), rows1) {
		t.Error("per-class draws equal the numpy stream's")
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name string
		set  map[string]any
		prep func(dir string)
		want string
	}{
		{"unknown rng", map[string]any{"rng": "mt"}, nil, "rng"},
		{"empty class", nil, func(dir string) {
			artifacts.WriteNPY(filepath.Join(dir, InLabels), []uint8{0, 1, 3, 0, 1, 3, 0, 1, 3, 0}, 10)
		}, "class 2"},
		{"labels count", nil, func(dir string) {
			artifacts.WriteNPY(filepath.Join(dir, InLabels), []uint8{0, 1, 2}, 3)
		}, "shape"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			stagetest.Dataset(t, dir, 10, 10, rand.New(rand.NewPCG(3, 4)))
			if tc.prep != nil {
				tc.prep(dir)
			}
			err := run(context.Background(), t, dir, tc.set)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one about %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, OutIndex)); err == nil {
				t.Error("index written despite the error")
			}
		})
	}
}

func TestCancel(t *testing.T) {
	dir := t.TempDir()
	stagetest.Dataset(t, dir, 1000, 10, rand.New(rand.NewPCG(3, 4)))
	for _, rng := range []string{RNGNumpy, RNGPerClass} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		err := run(ctx, t, dir, map[string]any{"per_class": 100000, "rng": rng})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("rng %s: error %v, want context.Canceled", rng, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("rng %s: returned after %v", rng, d)
		}
	}
}

// TestUnequalClasses draws from 13 classes of 1 to 13 images of 20×12
// pixels: every class gets per_class triplets of its own images, with
// negatives from the others, whichever rng draws them.
func TestUnequalClasses(t *testing.T) {
	const rows, cols, perClass = 20, 12, 30
	var labels []uint8
	for c := range 13 {
		for range c + 1 {
			labels = append(labels, uint8(c))
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	images := make([]uint8, len(labels)*rows*cols)
	for i := range images {
		images[i] = uint8(r.IntN(256))
	}
	dir := t.TempDir()
	if err := errors.Join(artifacts.WriteNPY(filepath.Join(dir, InImages), images, len(labels), rows, cols),
		artifacts.WriteNPY(filepath.Join(dir, InLabels), labels, len(labels))); err != nil {
		t.Fatal(err)
	}
	for _, rng := range []string{RNGNumpy, RNGPerClass} {
		if err := run(context.Background(), t, dir, map[string]any{"per_class": perClass, "rng": rng}); err != nil {
			t.Fatal(err)
		}
		got := index(t, dir, perClass) // checks each triplet's classes
		if len(got) != 3*13*perClass {
			t.Fatalf("rng %s: %d rows, want %d", rng, len(got), 3*13*perClass)
		}
	}
}
