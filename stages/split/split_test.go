package split_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/internal/pytest"
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
	"github.com/siamese-pipeline/siamese/stages/split"
)

// sklearnRows prints, for each case, the rows train_test_split(
// np.arange(N), test_size=..., random_state=...) puts in each part: the
// rows of the notebook's flattened triplets that X_train and X_test hold.
const sklearnRows = `
import json, sys
import numpy as np
from sklearn.model_selection import train_test_split
out = []
for c in json.load(open(sys.argv[1])):
    tr, te = train_test_split(np.arange(c["n"], dtype=np.int64), test_size=c["test_size"], random_state=c["seed"])
    out.append([tr.tolist(), te.tolist()])
json.dump(out, sys.stdout)
`

// writeIndex writes a triplets.arrow of n triplets.
func writeIndex(t *testing.T, dir string, n int) {
	t.Helper()
	col := make([]int64, n)
	for i := range col {
		col[i] = int64(i % 7)
	}
	cols := artifacts.NewColumns().Int64("id", col).Int64("class", col).Int64("anchor", col).
		Int64("positive", col).Int64("negative", col)
	if err := artifacts.WriteArrow(filepath.Join(dir, split.In), cols); err != nil {
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

// TestSklearnParity: the row files hold sklearn's split of the triplets'
// rows, in sklearn's order, for several sizes, fractions and seeds.
func TestSklearnParity(t *testing.T) {
	pytest.Need(t, "numpy", "sklearn")
	type tcase struct {
		N        int     `json:"n"`
		TestSize float64 `json:"test_size"`
		Seed     int     `json:"seed"`
	}
	cases := []tcase{{20, 0.05, 42}, {101, 0.25, 0}, {1000, 0.05, 12345}, {1000, 0.333, 7}, {2, 0.5, 1}}
	cfg, _ := json.Marshal(cases)
	f := filepath.Join(t.TempDir(), "cases.json")
	if err := os.WriteFile(f, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(pytest.Python, "-c", sklearnRows, f)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	var want [][2][]int64
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for i, tc := range cases {
		dir := t.TempDir()
		writeIndex(t, dir, tc.N)
		if err := runSplit(context.Background(), t, dir, map[string]any{"test_size": tc.TestSize, "seed": tc.Seed}); err != nil {
			t.Fatal(err)
		}
		for j, name := range []string{split.OutTrainRows, split.OutTestRows} {
			got, _, err := artifacts.ReadNPY[int64](filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want[i][j]) {
				t.Errorf("N=%d test_size=%v seed=%d: %s differs from sklearn's", tc.N, tc.TestSize, tc.Seed, name)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name  string
		set   map[string]any
		input func(dir string) error
		want  string
	}{
		{"test_size 0", map[string]any{"test_size": 0.0}, nil, "test_size"},
		{"test_size 1.5", map[string]any{"test_size": 1.5}, nil, "test_size"},
		{"empty train", map[string]any{"test_size": 0.99}, nil, "train"},
		{"no anchor column", nil, func(dir string) error {
			return artifacts.WriteArrow(filepath.Join(dir, split.In), artifacts.NewColumns().Int64("id", []int64{1, 2}))
		}, "anchor"},
		{"not arrow", nil, func(dir string) error {
			return os.WriteFile(filepath.Join(dir, split.In), []byte("not an arrow file"), 0o644)
		}, split.In},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.input != nil {
				if err := tc.input(dir); err != nil {
					t.Fatal(err)
				}
			} else {
				writeIndex(t, dir, 20)
			}
			err := runSplit(context.Background(), t, dir, tc.set)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one about %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, split.OutTrainRows)); err == nil {
				t.Error("train_rows written despite the error")
			}
		})
	}
}

func TestCancel(t *testing.T) {
	dir := t.TempDir()
	writeIndex(t, dir, 2000)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := runSplit(ctx, t, dir, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, split.OutTrainRows)); err == nil {
		t.Error("train_rows written despite the cancellation")
	}
}
