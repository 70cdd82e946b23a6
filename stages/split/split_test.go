package split_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
	"github.com/siamese-pipeline/siamese/stages/split"
)

// sklearnSplit prints the SHA-256 of what np.save writes for X_train and
// X_test of train_test_split(flat, np.ones(N), ...) for each case.
const sklearnSplit = `
import hashlib, json, sys
import numpy as np
from sklearn.model_selection import train_test_split
class Hasher:
    def __init__(self): self.h = hashlib.sha256()
    def write(self, b): self.h.update(b); return len(b)
def digest(a):
    h = Hasher(); np.save(h, a); return h.h.hexdigest()
out = []
for c in json.load(open(sys.argv[1])):
    flat = np.load(c["path"])
    X_train, X_test, _, _ = train_test_split(flat, np.ones(len(flat)), test_size=c["test_size"], random_state=c["seed"])
    out.append([digest(X_train), digest(X_test)])
json.dump(out, sys.stdout)
`

func writeFlat(t *testing.T, path string, n int) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(n), 5))
	data := make([]float64, n*3*784)
	for i := range data {
		data[i] = float64(r.IntN(256)) / 255
	}
	if err := artifacts.WriteNPY(path, data, n, 3, 784); err != nil {
		t.Fatal(err)
	}
}

func runSplit(ctx context.Context, t *testing.T, dir string, set map[string]any) error {
	t.Helper()
	s := split.New()
	out := map[string]string{}
	for _, n := range s.Spec().Outputs {
		out[n] = filepath.Join(dir, n)
	}
	env := runner.NewEnv("split", stagetest.Params(s, set), map[string]string{split.In: filepath.Join(dir, split.In)}, out, t.TempDir(), nil)
	return s.Run(ctx, env)
}

func TestSklearnParity(t *testing.T) {
	needPython(t)
	defer func(b int) { *split.BatchBytes = b }(*split.BatchBytes)
	type tcase struct {
		N        int     `json:"-"`
		TestSize float64 `json:"test_size"`
		Seed     int     `json:"seed"`
		Batch    int     `json:"-"`
		Path     string  `json:"path"`
	}
	cases := []tcase{
		{20, 0.05, 42, 8 << 20, ""}, {101, 0.25, 0, 8 << 20, ""}, {1000, 0.05, 12345, 8 << 20, ""},
		{1000, 0.333, 7, 100_000, ""}, // many batches, each of a few rows
		{2, 0.5, 1, 1, ""},            // batches of one row
	}
	base := t.TempDir()
	for i := range cases {
		tc := &cases[i]
		dir := filepath.Join(base, itoa(i))
		os.Mkdir(dir, 0o755)
		tc.Path = filepath.Join(dir, split.In)
		writeFlat(t, tc.Path, tc.N)
		*split.BatchBytes = tc.Batch
		if err := runSplit(context.Background(), t, dir, map[string]any{"test_size": tc.TestSize, "seed": tc.Seed}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := python(sklearnSplit, cases)
	if err != nil {
		t.Fatal(err)
	}
	var want [][2]string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for i, tc := range cases {
		dir := filepath.Dir(tc.Path)
		for j, f := range []string{split.OutXTrain, split.OutXTest} {
			if got := stagetest.FileSHA(t, filepath.Join(dir, f)); got != want[i][j] {
				t.Errorf("N=%d test_size=%v seed=%d: %s sha256 %s, sklearn's %s", tc.N, tc.TestSize, tc.Seed, f, got, want[i][j])
			}
		}
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name  string
		set   map[string]any
		input func(p string) error
		want  string
	}{
		{"test_size 0", map[string]any{"test_size": 0.0}, nil, "test_size"},
		{"test_size 1.5", map[string]any{"test_size": 1.5}, nil, "test_size"},
		{"empty train", map[string]any{"test_size": 0.99}, nil, "train"},
		{"uint8 input", nil, func(p string) error { return artifacts.WriteNPY(p, make([]uint8, 20*3*784), 20, 3, 784) }, "float64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, split.In)
			if tc.input != nil {
				if err := tc.input(p); err != nil {
					t.Fatal(err)
				}
			} else {
				writeFlat(t, p, 20)
			}
			err := runSplit(context.Background(), t, dir, tc.set)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one about %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, split.OutXTrain)); err == nil {
				t.Error("X_train written despite the error")
			}
		})
	}
}

func TestCancel(t *testing.T) {
	dir := t.TempDir()
	writeFlat(t, filepath.Join(dir, split.In), 2000)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := runSplit(ctx, t, dir, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %v", d)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %v, want only the input", entries)
	}
}
