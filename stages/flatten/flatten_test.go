package flatten

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/internal/pytest"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

// numpyFlatten prints, per (input, output) pair, the SHA-256 of what
// np.save writes for the notebook's flatten of the input, and the dtype
// and shape np.load gives for our output.
const numpyFlatten = `
import hashlib, json, sys
import numpy as np
class Hasher:
    def __init__(self): self.h = hashlib.sha256()
    def write(self, b): self.h.update(b); return len(b)
out = []
for src, ours in zip(sys.argv[1::2], sys.argv[2::2]):
    triplets = np.load(src)
    flat = (triplets / 255).reshape(len(triplets), 3, triplets.shape[2] * triplets.shape[3])
    h = Hasher(); np.save(h, flat)
    o = np.load(ours, mmap_mode="r")
    out.append({"sha256": h.h.hexdigest(), "dtype": str(o.dtype), "shape": list(o.shape)})
json.dump(out, sys.stdout)
`

func writeInput(t *testing.T, path string, n int, seed uint64) {
	t.Helper()
	writeImages(t, path, n, 28, 28, seed)
}

func writeImages(t *testing.T, path string, n, rows, cols int, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 9))
	data := make([]uint8, n*3*rows*cols)
	for i := range data {
		data[i] = uint8(r.IntN(256))
	}
	if n > 0 { // every value appears
		for i := range 256 {
			data[i] = uint8(i)
		}
	}
	if err := artifacts.WriteNPY(path, data, n, 3, rows, cols); err != nil {
		t.Fatal(err)
	}
}

func run(ctx context.Context, t *testing.T, in, out string) error {
	t.Helper()
	env := runner.NewEnv("flatten", pipeline.Params{}, map[string]string{In: in}, map[string]string{Out: out}, t.TempDir(), nil)
	return New().Run(ctx, env)
}

func TestNumpyParity(t *testing.T) {
	pytest.Need(t, "numpy")
	defer func(c int) { chunkElems = c }(chunkElems)
	cases := []struct {
		n, chunk   int
		rows, cols int
	}{
		{0, 1 << 20, 28, 28}, {1, 1 << 20, 28, 28}, {7, 1 << 20, 28, 28}, {1000, 1 << 20, 28, 28}, // 1000: three chunks, the last partial
		{50, 1000, 28, 28},                   // chunks that split images
		{9, 1 << 20, 32, 20}, {5, 100, 7, 3}, // a folder dataset's other sizes
	}
	dir := t.TempDir()
	var args []string
	for i, tc := range cases {
		in, out := filepath.Join(dir, "in"+strconv.Itoa(i)+".npy"), filepath.Join(dir, "out"+strconv.Itoa(i)+".npy")
		writeImages(t, in, tc.n, tc.rows, tc.cols, uint64(i))
		chunkElems = tc.chunk
		if err := run(context.Background(), t, in, out); err != nil {
			t.Fatalf("n=%d: %v", tc.n, err)
		}
		args = append(args, in, out)
	}
	cmd := exec.Command(pytest.Python, append([]string{"-c", numpyFlatten}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	var want []struct {
		SHA256 string `json:"sha256"`
		DType  string `json:"dtype"`
		Shape  []int  `json:"shape"`
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for i, tc := range cases {
		w := want[i]
		if got := stagetest.FileSHA(t, args[2*i+1]); got != w.SHA256 {
			t.Errorf("n=%d chunk=%d: sha256 %s, numpy's %s", tc.n, tc.chunk, got, w.SHA256)
		}
		if w.DType != "float64" || len(w.Shape) != 3 || w.Shape[0] != tc.n || w.Shape[1] != 3 || w.Shape[2] != tc.rows*tc.cols {
			t.Errorf("n=%d: np.load gives %s %v", tc.n, w.DType, w.Shape)
		}
	}
}

func TestShapeErrors(t *testing.T) {
	cases := []struct {
		name  string
		write func(p string) error
	}{
		{"pairs", func(p string) error { return artifacts.WriteNPY(p, make([]uint8, 2*2*28*28), 2, 2, 28, 28) }},
		{"flat already", func(p string) error { return artifacts.WriteNPY(p, make([]uint8, 2*3*784), 2, 3, 784) }},
		{"float64", func(p string) error { return artifacts.WriteNPY(p, make([]float64, 2*3*28*28), 2, 3, 28, 28) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in, out := filepath.Join(dir, In), filepath.Join(dir, Out)
			if err := tc.write(in); err != nil {
				t.Fatal(err)
			}
			err := run(context.Background(), t, in, out)
			if err == nil || !strings.Contains(err.Error(), in) || !strings.Contains(err.Error(), "(N, 3, rows, cols)") {
				t.Fatalf("error %v, want one naming %s and the expected shape", err, in)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("output written despite the error")
			}
		})
	}
}

func TestCancel(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, In), filepath.Join(dir, Out)
	writeInput(t, in, 3000, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := run(ctx, t, in, out); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %v", d)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %v, want only the input", entries)
	}
}
