package plots

import (
	"image"
	"image/color"
	"math"
	"path/filepath"
	"testing"

	"github.com/siamese-pipeline/siamese/internal/pngtest"
)

// tallestColumn returns the x of the column with the most pixels of colour
// c, and how many it has.
func tallestColumn(img image.Image, c color.RGBA) (int, int) { return densest(img, c, true) }

// widestRow is tallestColumn across.
func widestRow(img image.Image, c color.RGBA) (int, int) { return densest(img, c, false) }

// densest returns the column (or row) of img with the most pixels of
// colour c, and how many it has.
func densest(img image.Image, c color.RGBA, columns bool) (int, int) {
	b := img.Bounds()
	outer, inner := b.Dx(), b.Dy()
	if !columns {
		outer, inner = inner, outer
	}
	best, most := -1, 0
	for i := 0; i < outer; i++ {
		n := 0
		for j := 0; j < inner; j++ {
			x, y := i, j
			if !columns {
				x, y = j, i
			}
			if pngtest.Is(img.At(b.Min.X+x, b.Min.Y+y), c) {
				n++
			}
		}
		if n > most {
			best, most = i, n
		}
	}
	return best, most
}

// A vertical dashed line of MarkColor crosses the axes (500 px tall) at the
// best epoch, further right for a later one; without a best epoch there is
// none.
func TestLossCurvesBestEpoch(t *testing.T) {
	dir := outDir(t)
	epochs, loss, val := sampleData()
	xs := map[int]int{}
	for _, best := range []int{0, 5, 15} {
		p := filepath.Join(dir, "loss_best.png")
		if err := LossCurves(p, epochs, loss, val, best); err != nil {
			t.Fatal(err)
		}
		x, n := tallestColumn(pngtest.Decode(t, p), MarkColor)
		if best == 0 {
			if n > 0 {
				t.Errorf("no best epoch: %d mark pixels at x=%d", n, x)
			}
			continue
		}
		if n < 200 {
			t.Errorf("best epoch %d: the tallest mark column has %d pixels, want a line across the axes", best, n)
		}
		xs[best] = x
	}
	if xs[5] >= xs[15] {
		t.Errorf("the mark of epoch 5 is at x=%d, of epoch 15 at x=%d: want it left of it", xs[5], xs[15])
	}
}

func TestSimilarityHistThreshold(t *testing.T) {
	dir := outDir(t)
	pos := []float64{0.7, 0.8, 0.85, 0.9, 0.95}
	neg := []float64{0.2, 0.3, 0.4, 0.5, 0.6}
	p := filepath.Join(dir, "hist_plain.png")
	if err := SimilarityHist(p, pos, neg); err != nil {
		t.Fatal(err)
	}
	if _, n := tallestColumn(pngtest.Decode(t, p), MarkColor); n > 0 {
		t.Errorf("no marks, yet %d mark pixels", n)
	}
	var xs []int
	for _, at := range []float64{0.5, 0.8} {
		p := filepath.Join(dir, "hist_threshold.png")
		if err := SimilarityHist(p, pos, neg, Mark{X: at, Label: "decision threshold"}); err != nil {
			t.Fatal(err)
		}
		x, n := tallestColumn(pngtest.Decode(t, p), MarkColor)
		if n < 200 {
			t.Errorf("threshold %g: tallest mark column has %d pixels", at, n)
		}
		xs = append(xs, x)
	}
	if xs[0] >= xs[1] {
		t.Errorf("threshold 0.5 at x=%d, 0.8 at x=%d", xs[0], xs[1])
	}
	if err := SimilarityHist(p, pos, neg, Mark{X: math.NaN()}); err == nil {
		t.Error("NaN mark: no error")
	}
}

// dark counts the pixels darker than mid-grey in the rectangle r.
func dark(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if g := color.GrayModel.Convert(img.At(x, y)).(color.Gray); g.Y < 128 {
				n++
			}
		}
	}
	return n
}

// Labels and the heading are drawn in their bands: text where they are
// given, white where not.
func TestImageGridText(t *testing.T) {
	dir := outDir(t)
	var imgs [][]uint8
	for range 6 {
		imgs = append(imgs, make([]uint8, 28*28)) // black squares
	}
	labels := []string{"Coat", "Coat", "Sandal", "Bag", "Bag", "A very long class name indeed"}
	p := filepath.Join(dir, "grid_text.png")
	err := ImageGrid(p, imgs, 2, 3, 28, GridText{Heading: "Class 4: Coat", Columns: []string{"ANCHOR", "POSITIVE", "NEGATIVE"}, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	img := pngtest.Decode(t, p)
	rowH := 112 + 8 + labelH
	top := headingH + columnsH
	checkPNG(t, p, 3*120+8, top+2*rowH+8)
	if n := dark(img, image.Rect(0, 0, 3*120+8, headingH)); n < 20 {
		t.Errorf("heading band: %d dark pixels", n)
	}
	for i := range labels {
		x0, y0 := 8+(i%3)*120, top+(i/3)*rowH+8
		band := image.Rect(x0, y0, x0+112, y0+labelH)
		if n := dark(img, band); n < 10 {
			t.Errorf("label %d (%q): %d dark pixels in its band %v", i, labels[i], n, band)
		}
		// Shortened to its image's width: nothing in the gaps between cells.
		if gap := image.Rect(x0+112, y0, x0+120, y0+labelH); dark(img, gap) > 0 {
			t.Errorf("label %d runs into the gap %v", i, gap)
		}
	}
	plain := filepath.Join(dir, "grid_notext.png")
	if err := ImageGrid(plain, imgs, 2, 3, 28, GridText{}); err != nil {
		t.Fatal(err)
	}
	if n := dark(pngtest.Decode(t, plain), image.Rect(0, 0, 3*120+8, 8)); n != 0 {
		t.Errorf("no text, yet %d dark pixels above the grid", n)
	}
	if err := ImageGrid(p, imgs, 2, 3, 28, GridText{Labels: labels[:2]}); err == nil {
		t.Error("2 labels for 6 images: no error")
	}
}

// Each gate level is a horizontal dashed line in its metric's colour, at
// its height: a higher level is drawn higher up.
func TestTrend(t *testing.T) {
	dir := outDir(t)
	runs := []string{"11-01", "11-02", "11-03", "11-04", "11-05"}
	series := []Series{
		{Name: "roc_auc", Values: []float64{0.97, 0.975, math.NaN(), 0.968, 0.972}},
		{Name: "binary_accuracy", Values: []float64{0.84, 0.86, 0.85, 0.83, 0.845}},
	}
	ys := map[float64]int{}
	for _, at := range []float64{0.9, 0.96} {
		p := filepath.Join(dir, "trend.png")
		err := Trend(p, "Gate metrics", runs, series, []Level{{Series: "roc_auc", Y: at, Label: "roc_auc ≥ min"}})
		if err != nil {
			t.Fatal(err)
		}
		checkPNG(t, p, 800, 450)
		y, n := widestRow(pngtest.Decode(t, p), Palette[0])
		if n < 300 {
			t.Errorf("level %g: widest row of roc_auc's colour has %d pixels, want a line across", at, n)
		}
		ys[at] = y
	}
	if ys[0.96] >= ys[0.9] {
		t.Errorf("level 0.96 at y=%d is not above level 0.9 at y=%d", ys[0.96], ys[0.9])
	}
	p := filepath.Join(dir, "trend_bad.png")
	for name, err := range map[string]error{
		"no runs":       Trend(p, "", nil, series, nil),
		"short series":  Trend(p, "", runs[:2], series, nil),
		"unknown level": Trend(p, "", runs, series, []Level{{Series: "pr_auc", Y: 0.9}}),
		"NaN level":     Trend(p, "", runs, series, []Level{{Series: "roc_auc", Y: math.NaN()}}),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	one := filepath.Join(dir, "trend_one.png")
	if err := Trend(one, "one run", runs[:1], []Series{{Name: "roc_auc", Values: []float64{0.97}}}, nil); err != nil {
		t.Errorf("one run: %v", err)
	}
}
