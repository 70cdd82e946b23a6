package main

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	repo "github.com/siamese-pipeline/siamese"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/stages"
	"github.com/siamese-pipeline/siamese/stages/ingest"
)

// classRow is the third of its rows in which a class of the generated
// folders is bright (writeClassPNG).
var classRow = map[string]int{"bolt": 0, "gear": 1, "nut": 2}

// writeImage writes a 28×28 PNG of class.
func writeImage(t *testing.T, path, class string, rng *rand.Rand) {
	t.Helper()
	writeClassPNG(t, path, 28, 28, classRow[class], rng)
}

// writeFolder writes counts[class] images of each class in dir/<class>/.
func writeFolder(t *testing.T, dir string, counts map[string]int, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	for class, n := range counts {
		for i := range n {
			writeImage(t, filepath.Join(dir, class, fmt.Sprintf("%03d.png", i)), class, rng)
		}
	}
	return dir
}

func TestFit(t *testing.T) {
	for _, tt := range []struct {
		classes, smallest, perClass int
		testSize                    float64
	}{
		{3, 60, 39, 0.3},         // 117 triplets: 35 test triplets at most
		{2, 10, 6, 0.3},          // tiny
		{2, 1, 1, 0.3},           // one image: one triplet
		{10, 600, 396, 0.05},     // 3960 triplets: the notebook's 0.05 leaves 198
		{10, 7000, 3000, 0.05},   // Fashion-MNIST's size: the defaults
		{4, 200, 132, 0.1},       // 528 triplets: 0.1 leaves 53
		{256, 5000, 3000, 0.05},  // many classes
		{2, 1 << 30, 3000, 0.05}, // huge
	} {
		pc, ts := fit(tt.classes, tt.smallest)
		if pc != tt.perClass || ts != tt.testSize {
			t.Errorf("fit(%d classes, smallest %d) = %d, %g; want %d, %g", tt.classes, tt.smallest, pc, ts, tt.perClass, tt.testSize)
		}
	}
}

// The pipeline init writes is the default one, for the folder: it parses
// with the real stages, reads the folder into its own root, and fits the
// params and gate.
func TestFolderPipeline(t *testing.T) {
	src := t.TempDir()
	l := &ingest.Layout{Dir: src, Classes: []string{"bolt", "gear", "nut"}, Images: []int{60, 80, 100}}
	data, err := folderPipeline(repo.PipelineYAML, src, l)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "pipeline.yaml")
	p, err := pipeline.Parse(file, data, stages.Registry())
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	def, err := pipeline.Parse(file, repo.PipelineYAML, stages.Registry())
	if err != nil {
		t.Fatal(err)
	}
	in := p.Stage("ingest").Params
	if p.Root != filepath.Join(dir, "out") || in.String("dataset") != "folder" || in.String("source") != src ||
		p.Stage("triplets").Params.Int("per_class") != 39 || p.Stage("split").Params.Float("test_size") != 0.3 {
		t.Errorf("root %s, ingest %v, per_class %v, test_size %v", p.Root, in, p.Stage("triplets").Params, p.Stage("split").Params)
	}
	if len(p.Stages) != len(def.Stages) || p.Stage("train").Params.Int("epochs") != def.Stage("train").Params.Int("epochs") {
		t.Errorf("the stages differ from the default pipeline's")
	}
	var gate []string
	for _, g := range p.Gate {
		gate = append(gate, g.String())
	}
	if got := strings.Join(gate, "; "); strings.Contains(got, "binary_accuracy") || !strings.Contains(got, "knn_accuracy_k1") {
		t.Errorf("gate %s", got)
	}
	for _, want := range []string{"# 3 classes found (images each):\n#   bolt (60) gear (80) nut (100)\n", "per_class: 39 # fitted"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the file lacks %q:\n%s", want, data)
		}
	}
}

// siamese init refuses what it cannot make a pipeline of, before writing
// anything, saying what layout it expected.
func TestInitRefuses(t *testing.T) {
	dir := t.TempDir()
	writeFolder(t, filepath.Join(dir, "line"), map[string]int{"bolt": 2, "nut": 2}, 1)
	writeFolder(t, filepath.Join(dir, "one"), map[string]int{"bolt": 2}, 1)
	writeImage(t, filepath.Join(dir, "incoming", "a.png"), "bolt", rand.New(rand.NewPCG(1, 1)))
	put(t, filepath.Join(dir, "taken", "pipeline.yaml"), nil)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"init", "--folder", dir, filepath.Join(dir, "m1")}, 2,
			"init --folder: $DIR looks like the folder above a dataset: line/ holds bolt/, nut/, class folders one level down"},
		{[]string{"init", "--folder", filepath.Join(dir, "one"), filepath.Join(dir, "m2")}, 2,
			"init --folder: $DIR/one holds 1 class folder(s) (bolt); want $DIR/one/<class>/*.png"},
		{[]string{"init", "--folder", filepath.Join(dir, "nope"), filepath.Join(dir, "m3")}, 2, "source $DIR/nope does not exist"},
		{[]string{"init", "--folder", filepath.Join(dir, "line"), filepath.Join(dir, "line")}, 2,
			"is inside the image folder $DIR/line, where its artifacts would become a class"},
		{[]string{"init", "--folder", filepath.Join(dir, "line"), filepath.Join(dir, "taken")}, 2, "taken/pipeline.yaml exists"},
		{[]string{"init", filepath.Join(dir, "m4")}, 2, "init needs --folder DIR"},
		{[]string{"init", "--folder", filepath.Join(dir, "line"), "a", "b"}, 2, "init takes at most one NAME"},
	}
	for _, tc := range cases {
		code, out, errOut := siamese(t, dir, tc.args...)
		errOut = strings.ReplaceAll(errOut, dir, "$DIR")
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("siamese %v: exit %d, want %d with %q\n%s%s", tc.args, code, tc.code, tc.want, out, errOut)
		}
	}
	// Nothing was written for the refused calls.
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if strings.HasPrefix(filepath.Base(p), "m") && d.IsDir() {
			t.Errorf("a refused init made %s", p)
		}
		return nil
	})
}
