package plots

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// checkPNG decodes the file at path and checks its size.
func checkPNG(t *testing.T, path string, wantW, wantH int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		t.Fatalf("%s is empty", path)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if got := img.Bounds().Size(); got != (image.Point{wantW, wantH}) {
		t.Errorf("%s: size %v, want %dx%d", path, got, wantW, wantH)
	}
}

// previewDir is where TestRenderPreview writes; set PLOTS_PREVIEW=dir to keep
// the images for a visual check.
func outDir(t *testing.T) string {
	if d := os.Getenv("PLOTS_PREVIEW"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func sampleData() (epochs []int, loss, val []float64) {
	for e := 1; e <= 20; e++ {
		epochs = append(epochs, e)
		loss = append(loss, 0.9*math.Exp(-float64(e)/5)+0.05)
		val = append(val, 0.85*math.Exp(-float64(e)/6)+0.1+0.01*math.Sin(float64(e)))
	}
	return
}

func TestLossCurves(t *testing.T) {
	dir := outDir(t)
	epochs, loss, val := sampleData()
	p := filepath.Join(dir, "loss.png")
	if err := LossCurves(p, epochs, loss, val, 0); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p, 800, 500)
	// Training loss only.
	if err := LossCurves(filepath.Join(dir, "loss_train.png"), epochs, loss, nil, 0); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		e    []int
		l, v []float64
	}{
		{"no epochs", nil, nil, nil},
		{"loss length", epochs, loss[:3], val},
		{"val length", epochs, loss, val[:3]},
	} {
		if err := LossCurves(filepath.Join(dir, "bad.png"), c.e, c.l, c.v, 0); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestROC(t *testing.T) {
	dir := outDir(t)
	fpr := []float64{0, 0, 0.1, 0.2, 0.4, 0.7, 1}
	tpr := []float64{0, 0.4, 0.6, 0.8, 0.9, 0.97, 1}
	p := filepath.Join(dir, "roc.png")
	if err := ROC(p, fpr, tpr, 0.8765); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p, 600, 600)
	if err := ROC(filepath.Join(dir, "bad.png"), fpr, tpr[:2], 0.5); err == nil {
		t.Error("mismatched lengths: no error")
	}
	if err := ROC(filepath.Join(dir, "bad.png"), nil, nil, 0.5); err == nil {
		t.Error("empty: no error")
	}
}

func TestSimilarityHist(t *testing.T) {
	dir := outDir(t)
	r := rand.New(rand.NewPCG(1, 2))
	pos := make([]float64, 500)
	neg := make([]float64, 500)
	for i := range pos {
		pos[i] = math.Min(1, math.Max(0, 0.8+0.08*r.NormFloat64()))
		neg[i] = math.Min(1, math.Max(0, 0.45+0.12*r.NormFloat64()))
	}
	p := filepath.Join(dir, "hist.png")
	if err := SimilarityHist(p, pos, neg); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p, 800, 500)
	if err := SimilarityHist(filepath.Join(dir, "hist_one.png"), []float64{0.5, 0.5}, nil); err != nil {
		t.Errorf("constant single series: %v", err)
	}
	if err := SimilarityHist(filepath.Join(dir, "bad.png"), nil, nil); err == nil {
		t.Error("no values: no error")
	}
	if err := SimilarityHist(filepath.Join(dir, "bad.png"), []float64{math.NaN()}, nil); err == nil {
		t.Error("NaN: no error")
	}
}

// fakeImage draws a simple shape so grids are easy to check by eye.
func fakeImage(side, k int) []uint8 {
	px := make([]uint8, side*side)
	c := float64(side) / 2
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			d := math.Hypot(float64(x)-c, float64(y)-c)
			if d < float64(3+k%8) || (k%2 == 1 && x == y) {
				px[y*side+x] = uint8(255 - 15*k%200)
			}
		}
	}
	return px
}

func TestImageGrid(t *testing.T) {
	dir := outDir(t)
	var imgs [][]uint8
	for k := 0; k < 10; k++ {
		imgs = append(imgs, fakeImage(28, k))
	}
	// 1×10 with a title per image; 28 px magnified ×4 = 112, 8 px padding.
	p := filepath.Join(dir, "grid_samples.png")
	if err := ImageGrid(p, imgs, 1, 10, 28, GridText{Columns: fashionClasses}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p, 10*120+8, 120+columnsH+8)
	// 3×3 triplets with column titles.
	p = filepath.Join(dir, "grid_triplets.png")
	if err := ImageGrid(p, imgs[:9], 3, 3, 28, GridText{Columns: []string{"ANCHOR", "POSITIVE", "NEGATIVE"}}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p, 3*120+8, 3*120+8+22)
	// No titles, partly filled grid.
	p = filepath.Join(dir, "grid_plain.png")
	if err := ImageGrid(p, imgs[:5], 2, 3, 28, GridText{}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p, 3*120+8, 2*120+8)
	bad := filepath.Join(dir, "bad.png")
	if err := ImageGrid(bad, imgs, 2, 3, 28, GridText{}); err == nil {
		t.Error("too many images: no error")
	}
	if err := ImageGrid(bad, [][]uint8{make([]uint8, 10)}, 1, 1, 28, GridText{}); err == nil {
		t.Error("wrong image size: no error")
	}
	if err := ImageGrid(bad, imgs[:4], 2, 3, 28, GridText{Columns: []string{"a", "b"}}); err == nil {
		t.Error("wrong number of titles: no error")
	}
	if err := ImageGrid(bad, imgs[:4], 0, 3, 28, GridText{}); err == nil {
		t.Error("zero rows: no error")
	}
}

func TestScatter2D(t *testing.T) {
	dir := outDir(t)
	r := rand.New(rand.NewPCG(3, 4))
	var xy []float64
	var classes []int
	for i := 0; i < 1000; i++ {
		c := i % 10
		a := 2 * math.Pi * float64(c) / 10
		xy = append(xy, 3*math.Cos(a)+r.NormFloat64(), 3*math.Sin(a)+r.NormFloat64())
		classes = append(classes, c)
	}
	p := filepath.Join(dir, "scatter.png")
	if err := Scatter2D(p, xy, classes, fashionClasses); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p, 800, 600)
	// Unknown names fall back to "class N".
	if err := Scatter2D(filepath.Join(dir, "scatter_nonames.png"), xy[:20], classes[:10], nil); err != nil {
		t.Fatal(err)
	}
	if err := Scatter2D(filepath.Join(dir, "bad.png"), xy[:5], classes[:3], nil); err == nil {
		t.Error("mismatched lengths: no error")
	}
	// More classes than colours: the colours repeat with other markers.
	var many []int
	for i := range 500 {
		many = append(many, i%25)
	}
	p = filepath.Join(dir, "scatter_25.png")
	if err := Scatter2D(p, xy[:1000], many, nil); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, p, 800, 600)
}

// TestDeterministic renders the same plot twice and compares the bytes.
func TestDeterministic(t *testing.T) {
	dir := t.TempDir()
	epochs, loss, val := sampleData()
	a, b := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png")
	if err := LossCurves(a, epochs, loss, val, 0); err != nil {
		t.Fatal(err)
	}
	if err := LossCurves(b, epochs, loss, val, 0); err != nil {
		t.Fatal(err)
	}
	ba, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ba, bb) {
		t.Error("same input gave different PNG bytes")
	}
}

func TestWriteError(t *testing.T) {
	if err := ROC(filepath.Join(t.TempDir(), "missing", "x.png"), []float64{0, 1}, []float64{0, 1}, 0.5); err == nil {
		t.Error("unwritable path: no error")
	}
}

func TestEpochTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		labels []string
	}{
		{1, 5, []string{"1", "2", "3", "4", "5"}},
		{1, 20, []string{"2", "4", "6", "8", "10", "12", "14", "16", "18", "20"}},
		{0, 100, []string{"0", "10", "20", "30", "40", "50", "60", "70", "80", "90", "100"}},
		{1, 1000, []string{"100", "200", "300", "400", "500", "600", "700", "800", "900", "1000"}},
	} {
		var got []string
		for _, tk := range (epochTicks{}).Ticks(c.lo, c.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if len(got) != len(c.labels) {
			t.Errorf("[%v,%v]: labels %v, want %v", c.lo, c.hi, got, c.labels)
			continue
		}
		for i := range got {
			if got[i] != c.labels[i] {
				t.Errorf("[%v,%v]: labels %v, want %v", c.lo, c.hi, got, c.labels)
				break
			}
		}
	}
}

// fashionClasses are the Fashion-MNIST class names, indexed by label.
var fashionClasses = []string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}
