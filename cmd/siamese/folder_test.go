package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
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
)

// writeClassPNG writes a w×h noisy gray PNG of class c: bright in the
// c-th third of its rows.
func writeClassPNG(t *testing.T, path string, w, h, c int, rng *rand.Rand) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := rng.IntN(60)
			if y*3/h == c {
				v += 180
			}
			img.Pix[y*w+x] = uint8(v)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFolderDataset runs the repository's pipeline.yaml through the
// command line on a folder of three classes of PNG files of unequal
// counts and of several sizes, resized to 20×20, then changes the folder
// and checks that status and run notice.
func TestFolderDataset(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline, small, a few times")
	}
	tmp := t.TempDir()
	src, root := filepath.Join(tmp, "inspection"), filepath.Join(tmp, "out")
	rng := rand.New(rand.NewPCG(3, 4))
	classes := []string{"nut", "bolt", "gear"} // sorted: bolt, gear, nut
	sizes := [][2]int{{28, 28}, {40, 32}, {17, 23}}
	counts := []int{30, 18, 40}
	for c, name := range classes {
		for i := range counts[c] {
			s := sizes[i%len(sizes)]
			writeClassPNG(t, filepath.Join(src, name, fmt.Sprintf("%02d.png", i)), s[0], s[1], c, rng)
		}
	}
	siamese := func(args ...string) (int, string) {
		code, out, errOut := inProcess(t, root, args...)
		return code, out + errOut
	}
	sets := []string{"--set", "ingest.dataset=folder", "--set", "ingest.source=" + src, "--set", "ingest.image_size=20",
		"--set", "triplets.per_class=6", "--set", "split.test_size=0.2", "--set", "train.epochs=2",
		"--set", "evaluate.queries=100", "--set", "evaluate.pca_points=50"}
	run := func(args ...string) string {
		t.Helper()
		code, out := siamese(append(append([]string{"run", "--no-gate"}, args...), sets...)...)
		if code != 0 {
			t.Fatalf("run: exit %d\n%s", code, out)
		}
		return out
	}
	status := func() string {
		t.Helper()
		code, out := siamese(append([]string{"status"}, sets...)...)
		if code != 0 {
			t.Fatalf("status: exit %d\n%s", code, out)
		}
		return out
	}
	const stagesN = 7
	ran := func(out string) int { return strings.Count(out, " ran ") }

	if out := run(); ran(out) != stagesN {
		t.Fatalf("first run ran %d stages:\n%s", ran(out), out)
	}
	names, err := os.ReadFile(filepath.Join(root, "ingest/classes.txt"))
	if err != nil || string(names) != "bolt\ngear\nnut\n" {
		t.Errorf("classes.txt %q, %v", names, err)
	}
	labels, shape, err := artifacts.ReadNPY[uint8](filepath.Join(root, "ingest/labels.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ishape, err := artifacts.ReadNPY[uint8](filepath.Join(root, "ingest/images.npy")); err != nil || !slices.Equal(ishape, []int{88, 20, 20}) {
		t.Errorf("images.npy shape %v, %v", ishape, err)
	}
	perLabel := make([]int, 3)
	for _, l := range labels {
		perLabel[l]++
	}
	if !slices.Equal(shape, []int{88}) || !slices.Equal(perLabel, []int{18, 40, 30}) { // bolt, gear, nut
		t.Errorf("labels shape %v, per class %v", shape, perLabel)
	}
	if _, wshape, err := artifacts.ReadNPY[float32](filepath.Join(root, "train/model/W0.npy")); err != nil || wshape[0] != 400 {
		t.Errorf("the network's input: W0 shape %v, %v", wshape, err)
	}
	var m struct {
		ROCAUC   float64 `json:"roc_auc"`
		PerClass []struct {
			Name string `json:"name"`
		} `json:"per_class"`
	}
	data, err := os.ReadFile(filepath.Join(root, "evaluate/metrics.json"))
	if err != nil || json.Unmarshal(data, &m) != nil || !(m.ROCAUC > 0) {
		t.Fatalf("metrics.json: %s, %v", data, err)
	}
	for _, c := range m.PerClass {
		if !slices.Contains(classes, c.Name) {
			t.Errorf("per-class metrics of %q", c.Name)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "report.html")); err != nil {
		t.Error(err)
	}

	if out := run(); ran(out) != 0 {
		t.Fatalf("second run:\n%s", out)
	}
	image := filepath.Join(src, "gear", "05.png")
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(image, later, later); err != nil {
		t.Fatal(err)
	}
	if out := status(); strings.Contains(out, "stale") {
		t.Errorf("status after touching an image:\n%s", out)
	}
	if out := run(); ran(out) != 0 {
		t.Errorf("run after touching an image:\n%s", out)
	}

	changes := []struct {
		name   string
		change func()
		reason string
	}{
		{"an image changed", func() { writeClassPNG(t, image, 28, 28, 2, rng) }, "source changed: inspection/gear/05.png"},
		{"an image added", func() { writeClassPNG(t, filepath.Join(src, "bolt", "99.png"), 28, 28, 1, rng) }, "source added: inspection/bolt/99.png"},
		{"an image removed", func() { os.Remove(filepath.Join(src, "nut", "00.png")) }, "source removed: inspection/nut/00.png"},
	}
	for _, c := range changes {
		c.change()
		out := status()
		if !strings.Contains(out, "stale: "+c.reason) || strings.Count(out, "stale: upstream stage") != stagesN-1 {
			t.Errorf("status after %s:\n%s", c.name, out)
		}
		if out := run(); ran(out) != stagesN || !strings.Contains(out, c.reason) {
			t.Errorf("run after %s:\n%s", c.name, out)
		}
	}

	notes := filepath.Join(src, "gear", "notes.txt")
	if err := os.WriteFile(notes, []byte("shift 2"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := siamese(append([]string{"run", "--no-gate"}, sets...)...)
	if code != 1 || !strings.Contains(out, notes+": not an image file") {
		t.Errorf("a text file among the images: exit %d\n%s", code, out)
	}
	if out := run("--set", "ingest.on_bad_image=skip"); ran(out) != stagesN {
		t.Errorf("run skipping bad images:\n%s", out)
	}

	t.Run("score --model latest scores the folder as ingest prepared it", func(t *testing.T) {
		code, out := siamese("score", "--model", "latest", "--format", "csv", src)
		out = strings.Join(slices.DeleteFunc(strings.SplitAfter(out, "\n"), func(l string) bool {
			return strings.HasPrefix(l, "scoring with model ") // stderr's line that names the model
		}), "")
		if code != 0 || strings.Count(out, ".png,") != 88 || strings.Contains(out, "notes.txt") {
			t.Fatalf("score: exit %d\n%s", code, out)
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			if f := strings.Split(line, ","); len(f) != 5 || !slices.Contains(classes, f[1]) {
				t.Errorf("row %q", line)
			}
		}
	})

	t.Run("the example script recomputes the metrics", func(t *testing.T) {
		python := pytest.Need(t, "numpy", "sklearn")
		if got, err := exec.Command(python, "../../examples/load_artifacts.py", "--artifacts", root, "--check").CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, got)
		}
	})
}
