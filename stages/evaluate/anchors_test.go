package evaluate

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/model"
	"github.com/siamese-pipeline/siamese/scoring"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

// TestAnchorsAndThresholds recomputes anchors.npy and thresholds.json
// from the fixture: each anchor is the mean embedding of the class's
// images that training triplets used, each threshold the distance that
// at most 5 % of the class's unused images exceed.
func TestAnchorsAndThresholds(t *testing.T) {
	d := stagetest.Write(t, 300, 20)
	out, _ := evaluate(t, d)

	modelDir := t.TempDir()
	writeModel(t, modelDir, "linear") // the same network evaluate scored with
	w, err := loadWeights(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	inputs := d.Inputs("images.npy", "labels.npy", "classes.txt", "triplets.arrow", "train_rows.npy", "test_rows.npy")
	env, _ := stagetest.Env(t, New(), inputs, nil)
	data, err := loadData(env)
	if err != nil {
		t.Fatal(err)
	}
	ref, held, err := splitImages(data, 100)
	if err != nil {
		t.Fatal(err)
	}
	embed := func(rows []int) ([]float32, []int) {
		x, labels := make([]float32, len(rows)*data.pixels), make([]int, len(rows))
		for i, r := range rows {
			data.image(int64(r), x[i*data.pixels:(i+1)*data.pixels])
			labels[i] = int(data.labels[r])
		}
		return model.Embed(w, x, len(rows)), labels
	}
	refEmb, refLab := embed(ref)
	heldEmb, heldLab := embed(held)
	dim := w.OutputDim()

	anchors, shape, err := artifacts.ReadNPY[float32](filepath.Join(out, "anchors.npy"))
	if err != nil || !slices.Equal(shape, []int{3, dim}) {
		t.Fatalf("anchors.npy: shape %v, %v", shape, err)
	}
	th, err := scoring.ReadThresholds(filepath.Join(out, "thresholds.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(th.Classes, []string{"zero", "one", "two"}) || th.TargetFPR != 0.05 {
		t.Errorf("thresholds.json: %+v", th)
	}
	for c := range 3 {
		var sum [4]float64
		var n float64
		for i, l := range refLab {
			if l == c {
				for j := range dim {
					sum[j] += float64(refEmb[i*dim+j])
				}
				n++
			}
		}
		for j := range dim {
			if got := float64(anchors[c*dim+j]); math.Abs(got-sum[j]/n) > 1e-6 {
				t.Errorf("anchor %d[%d] = %v, want the mean %v", c, j, got, sum[j]/n)
			}
		}
		var dist []float64
		for i, l := range heldLab {
			if l == c {
				dist = append(dist, 1-cosine(heldEmb[i*dim:(i+1)*dim], anchors[c*dim:(c+1)*dim]))
			}
		}
		slices.Sort(dist)
		k := len(dist) - 1 - int(math.Floor(0.05*float64(len(dist))))
		pc := th.PerClass[c]
		if math.Abs(th.Thresholds[c]-dist[k]) > 1e-12 || pc.Threshold != th.Thresholds[c] || pc.Source != "held-out" || pc.Images != len(dist) ||
			pc.FPR > 0.05 || pc.Name != []string{"zero", "one", "two"}[c] {
			t.Errorf("class %d: threshold %v (%+v), want %v of %d held-out distances", c, th.Thresholds[c], pc, dist[k], len(dist))
		}
	}
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa) / math.Sqrt(bb)
}

// Without held-out images the anchors and thresholds still come, from
// images spread over every class, and thresholds.json says so.
func TestAnchorsWithoutHeldOutImages(t *testing.T) {
	d := stagetest.Write(t, 30, 40) // every image used by training
	out, _ := evaluate(t, d)
	if _, shape, err := artifacts.ReadNPY[float32](filepath.Join(out, "anchors.npy")); err != nil || !slices.Equal(shape, []int{3, 4}) {
		t.Errorf("anchors.npy: %v, %v", shape, err)
	}
	th, err := scoring.ReadThresholds(filepath.Join(out, "thresholds.json"))
	if err != nil || !strings.Contains(th.Method, "no held-out images") || len(th.Thresholds) != 3 {
		t.Errorf("thresholds.json: %+v, %v", th, err)
	}
	if _, err := os.Stat(filepath.Join(out, "metrics.json")); err != nil {
		t.Error(err)
	}
}

// A class that neither the reference nor the held-out images hold takes
// its anchor, and its threshold, from its own images in images.npy.
func TestAnchorsForAClassNoSetHolds(t *testing.T) {
	d := stagetest.Write(t, 300, 20)
	modelDir := t.TempDir()
	writeModel(t, modelDir, "linear")
	w, err := loadWeights(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	inputs := d.Inputs("images.npy", "labels.npy", "classes.txt", "triplets.arrow", "train_rows.npy", "test_rows.npy")
	env, out := stagetest.Env(t, New(), inputs, map[string]any{"queries": 90})
	data, err := loadData(env)
	if err != nil {
		t.Fatal(err)
	}
	ref, held, err := splitImages(data, 90)
	if err != nil {
		t.Fatal(err)
	}
	// Drop class 2 from both sets.
	keep := func(rows []int) ([]float32, []int) {
		var x []float32
		var labels []int
		for _, r := range rows {
			if data.labels[r] == 2 {
				continue
			}
			img := make([]float32, data.pixels)
			data.image(int64(r), img)
			x, labels = append(x, img...), append(labels, int(data.labels[r]))
		}
		return model.Embed(w, x, len(labels)), labels
	}
	q := &queries{}
	q.refEmb, q.refLabels = keep(ref)
	q.emb, q.labels = keep(held)
	if err := writeAnchors(t.Context(), env, w, data, q); err != nil {
		t.Fatal(err)
	}
	anchors, shape, err := artifacts.ReadNPY[float32](filepath.Join(out, "anchors.npy"))
	if err != nil || !slices.Equal(shape, []int{3, 4}) {
		t.Fatalf("anchors.npy: %v %v", shape, err)
	}
	// Class 2's anchor: the mean embedding of 30 of its images.
	var rows []int
	for i, l := range data.labels {
		if l == 2 {
			rows = append(rows, i)
		}
	}
	rows = spread(rows, 30)
	x := make([]float32, len(rows)*data.pixels)
	for i, r := range rows {
		data.image(int64(r), x[i*data.pixels:(i+1)*data.pixels])
	}
	emb := model.Embed(w, x, len(rows))
	for j := range 4 {
		var sum float64
		for i := range rows {
			sum += float64(emb[i*4+j])
		}
		if got := float64(anchors[2*4+j]); math.Abs(got-sum/float64(len(rows))) > 1e-6 {
			t.Errorf("class 2's anchor[%d] = %v, want %v", j, got, sum/float64(len(rows)))
		}
	}
	th, err := scoring.ReadThresholds(filepath.Join(out, "thresholds.json"))
	if err != nil || th.PerClass[2].Source != "reference" || th.PerClass[2].Images != 30 || th.PerClass[0].Source != "held-out" {
		t.Errorf("thresholds: %+v %v", th, err)
	}
}
