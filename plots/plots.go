// Package plots renders the pipeline's figures as PNG files with gonum/plot:
// training loss curves, ROC curves, pair-similarity histograms, image grids
// and 2-D embedding scatter plots.
//
// Every function writes exactly one file and returns an error for
// inconsistent input lengths. Output is deterministic: the same input gives
// the same bytes.
package plots

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	"image/png"
	"math"
	"os"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Palette is the colour cycle used for series and classes (matplotlib's
// "tab10").
var Palette = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255},
	{214, 39, 40, 255}, {148, 103, 189, 255}, {140, 86, 75, 255},
	{227, 119, 194, 255}, {127, 127, 127, 255}, {188, 189, 34, 255},
	{23, 190, 207, 255},
}

// classGlyphs are the markers of classes, one per cycle of Palette.
var classGlyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.TriangleGlyph{}, draw.SquareGlyph{}, draw.PlusGlyph{},
	draw.CrossGlyph{}, draw.RingGlyph{}, draw.PyramidGlyph{}, draw.BoxGlyph{}}

const dpi = 100

// sans is the font used for all text (gonum/plot's default is a serif).
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// MarkColor is the colour of the vertical marks (best epoch, decision
// threshold): a colour no series uses, so a mark stands out.
var MarkColor = color.RGBA{148, 103, 189, 255}

// Mark is a vertical line at X with a legend label.
type Mark struct {
	X     float64
	Label string
}

// LossCurves plots training (and, if valLoss is non-empty, validation) loss
// against epoch, like the Keras history plot: title "Model loss", legend
// "Train"/"Validation". loss (and valLoss when given) must have len(epochs)
// values; epochs must be non-empty. best, when it is one of epochs, is
// marked by a vertical line: the epoch whose weights training kept.
func LossCurves(path string, epochs []int, loss, valLoss []float64, best int) error {
	if len(epochs) == 0 {
		return errors.New("plots: LossCurves: no epochs")
	}
	if len(loss) != len(epochs) {
		return fmt.Errorf("plots: LossCurves: len(loss)=%d != len(epochs)=%d", len(loss), len(epochs))
	}
	if len(valLoss) != 0 && len(valLoss) != len(epochs) {
		return fmt.Errorf("plots: LossCurves: len(valLoss)=%d != len(epochs)=%d", len(valLoss), len(epochs))
	}
	p := newPlot("Model loss", "Epoch", "Loss")
	var entries []legendEntry
	for i, s := range []struct {
		name string
		ys   []float64
	}{{"Train", loss}, {"Validation", valLoss}} {
		if len(s.ys) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(epochs))
		for j, e := range epochs {
			xys[j] = plotter.XY{X: float64(e), Y: s.ys[j]}
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("plots: LossCurves: %w", err)
		}
		l.Color = Palette[i]
		l.Width = vg.Points(2)
		pts.Color = Palette[i]
		pts.Shape = draw.CircleGlyph{}
		pts.Radius = vg.Points(2.5)
		if len(epochs) > 40 {
			pts.Radius = 0
		}
		p.Add(l, pts)
		entries = append(entries, legendEntry{s.name, []plot.Thumbnailer{l, pts}})
	}
	if i := slices.Index(epochs, best); i >= 0 {
		label := fmt.Sprintf("Best epoch %d", best)
		if len(valLoss) > 0 {
			label += fmt.Sprintf(" (val %.4f)", valLoss[i])
		}
		entries = append(entries, addMarks(p, []Mark{{X: float64(best), Label: label}})...)
	}
	p.X.Tick.Marker = epochTicks{}
	return save(path, p, entries, 8*vg.Inch, 5*vg.Inch)
}

// ROC plots a ROC curve (fpr on x, tpr on y) with the chance diagonal and the
// AUC in the title. fpr and tpr must have the same non-zero length.
func ROC(path string, fpr, tpr []float64, auc float64) error {
	if len(fpr) != len(tpr) {
		return fmt.Errorf("plots: ROC: len(fpr)=%d != len(tpr)=%d", len(fpr), len(tpr))
	}
	if len(fpr) == 0 {
		return errors.New("plots: ROC: empty curve")
	}
	p := newPlot(fmt.Sprintf("ROC curve (AUC = %.4f)", auc), "False positive rate", "True positive rate")
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	var ticks []plot.Tick
	for i := 0; i <= 10; i++ {
		t := plot.Tick{Value: float64(i) / 10}
		if i%2 == 0 {
			t.Label = fmt.Sprintf("%.1f", t.Value)
		}
		ticks = append(ticks, t)
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return err
	}
	diag.Color = color.Gray{Y: 140}
	diag.Dashes = []vg.Length{vg.Points(5), vg.Points(4)}
	xys := make(plotter.XYs, len(fpr))
	for i := range fpr {
		xys[i] = plotter.XY{X: fpr[i], Y: tpr[i]}
	}
	curve, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("plots: ROC: %w", err)
	}
	curve.Color = Palette[0]
	curve.Width = vg.Points(2)
	p.Add(diag, curve)
	p.Legend.Add(fmt.Sprintf("ROC (AUC = %.4f)", auc), curve)
	p.Legend.Add("Chance", diag)
	p.Legend.Top = false // lower right, below a better-than-chance curve
	p.Legend.TextStyle.Font = font.From(sans, 11)
	p.Legend.Padding = vg.Points(4)
	p.Legend.XOffs = -vg.Points(8)
	p.Legend.YOffs = vg.Points(8)
	return save(path, p, nil, 6*vg.Inch, 6*vg.Inch)
}

// SimilarityHist overlays histograms (counts, shared bins) of the
// similarities of positive and negative pairs, with a vertical line at each
// mark (e.g. the decision threshold). At least one of pos and neg must be
// non-empty; values and marks must be finite.
func SimilarityHist(path string, pos, neg []float64, marks ...Mark) error {
	if len(pos)+len(neg) == 0 {
		return errors.New("plots: SimilarityHist: no values")
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range slices.Concat(pos, neg) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("plots: SimilarityHist: non-finite value %v", v)
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi == lo {
		lo, hi = lo-0.5, hi+0.5
	}
	for _, m := range marks {
		if math.IsNaN(m.X) || math.IsInf(m.X, 0) {
			return fmt.Errorf("plots: SimilarityHist: non-finite mark %v", m.X)
		}
	}
	nBins := int(math.Sqrt(float64(max(len(pos), len(neg)))))
	nBins = min(max(nBins, 10), 60)
	width := (hi - lo) / float64(nBins)
	p := newPlot("Pair similarity distribution", "Similarity", "Pairs")
	var entries []legendEntry
	for i, s := range []struct {
		name string
		vs   []float64
	}{{fmt.Sprintf("Positive pairs (n=%d)", len(pos)), pos}, {fmt.Sprintf("Negative pairs (n=%d)", len(neg)), neg}} {
		if len(s.vs) == 0 {
			continue
		}
		bins := make([]plotter.HistogramBin, nBins)
		for b := range bins {
			bins[b].Min = lo + float64(b)*width
			bins[b].Max = lo + float64(b+1)*width
		}
		for _, v := range s.vs {
			b := min(int((v-lo)/width), nBins-1)
			bins[b].Weight++
		}
		c := Palette[[]int{2, 3}[i]] // green positives, red negatives
		h := &plotter.Histogram{
			Bins:      bins,
			Width:     width,
			FillColor: color.NRGBA{c.R, c.G, c.B, 110},
			LineStyle: draw.LineStyle{Color: c, Width: vg.Points(1)},
		}
		p.Add(h)
		entries = append(entries, legendEntry{s.name, []plot.Thumbnailer{h}})
	}
	p.Y.Min = 0
	return save(path, p, append(entries, addMarks(p, marks)...), 8*vg.Inch, 5*vg.Inch)
}

// addMarks adds a dashed vertical line across the plot's whole height at
// each mark's X, and returns their legend entries.
func addMarks(p *plot.Plot, marks []Mark) []legendEntry {
	var entries []legendEntry
	for _, m := range marks {
		l := &rule{at: m.X, vertical: true}
		l.Color = MarkColor
		l.Width = vg.Points(2)
		l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		p.Add(l)
		entries = append(entries, legendEntry{m.Label, []plot.Thumbnailer{l}})
	}
	return entries
}

// rule is a line across the whole data area: vertical at x = at, or
// horizontal at y = at.
type rule struct {
	at       float64
	vertical bool
	draw.LineStyle
}

func (r *rule) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	if r.vertical {
		x := trX(r.at)
		c.StrokeLine2(r.LineStyle, x, c.Min.Y, x, c.Max.Y)
		return
	}
	y := trY(r.at)
	c.StrokeLine2(r.LineStyle, c.Min.X, y, c.Max.X, y)
}

// DataRange widens the axis the rule crosses to include it, and leaves the
// other alone.
func (r *rule) DataRange() (xmin, xmax, ymin, ymax float64) {
	if r.vertical {
		return r.at, r.at, math.Inf(1), math.Inf(-1)
	}
	return math.Inf(1), math.Inf(-1), r.at, r.at
}

func (r *rule) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(r.LineStyle, c.Min.X, y, c.Max.X, y)
}

// Scatter2D plots 2-D points (xy row-major n×2, e.g. metrics.PCA2) coloured
// by class, with a legend outside the axes naming each class present:
// names[class] when available (e.g. the dataset's classes.txt), otherwise "class N".
// len(xy) must be 2*len(classes).
func Scatter2D(path string, xy []float64, classes []int, names []string) error {
	if len(xy) != 2*len(classes) {
		return fmt.Errorf("plots: Scatter2D: len(xy)=%d != 2*len(classes)=%d", len(xy), 2*len(classes))
	}
	if len(classes) == 0 {
		return errors.New("plots: Scatter2D: no points")
	}
	byClass := map[int]plotter.XYs{}
	for i, c := range classes {
		byClass[c] = append(byClass[c], plotter.XY{X: xy[2*i], Y: xy[2*i+1]})
	}
	keys := make([]int, 0, len(byClass))
	for c := range byClass {
		keys = append(keys, c)
	}
	slices.Sort(keys)
	p := newPlot("Embeddings (PCA)", "PC 1", "PC 2")
	radius := vg.Points(2.5)
	if len(classes) > 2000 {
		radius = vg.Points(1.2)
	}
	var entries []legendEntry
	for i, c := range keys {
		s, err := plotter.NewScatter(byClass[c])
		if err != nil {
			return fmt.Errorf("plots: Scatter2D: %w", err)
		}
		// Past ten classes the colours repeat with another marker.
		col, shape := Palette[i%len(Palette)], classGlyphs[i/len(Palette)%len(classGlyphs)]
		s.Color = color.NRGBA{col.R, col.G, col.B, 170}
		s.Shape = shape
		s.Radius = radius
		p.Add(s)
		name := fmt.Sprintf("class %d", c)
		if c >= 0 && c < len(names) {
			name = names[c]
		}
		// Legend thumbnail with a larger, opaque marker.
		th := draw.GlyphStyle{Color: col, Shape: shape, Radius: vg.Points(4)}
		entries = append(entries, legendEntry{name, []plot.Thumbnailer{glyphThumb(th)}})
	}
	return save(path, p, entries, 8*vg.Inch, 6*vg.Inch)
}

// GridText is the text of an image grid, each part optional: a heading
// above everything (e.g. "Class 0: T-shirt/top"), one header per column
// (e.g. ANCHOR/POSITIVE/NEGATIVE) and one label per image (e.g. its class
// name), drawn above the image and shortened with "…" to fit its width.
type GridText struct {
	Heading string
	Columns []string // none or cols
	Labels  []string // none or len(images)
}

// Heights in pixels of the grid's text bands.
const (
	headingH = 26
	columnsH = 22
	labelH   = 18
)

// ImageGrid draws grayscale side×side images (row-major bytes, 0 = black) in
// a rows×cols grid, filled row by row, with text's heading, column headers
// and labels; len(images) must not exceed rows*cols. Images are magnified
// by an integer factor without interpolation.
func ImageGrid(path string, images [][]uint8, rows, cols int, side int, text GridText) error {
	if rows <= 0 || cols <= 0 || side <= 0 {
		return fmt.Errorf("plots: ImageGrid: rows=%d cols=%d side=%d must be positive", rows, cols, side)
	}
	if len(images) > rows*cols {
		return fmt.Errorf("plots: ImageGrid: %d images do not fit a %d×%d grid", len(images), rows, cols)
	}
	for i, im := range images {
		if len(im) != side*side {
			return fmt.Errorf("plots: ImageGrid: image %d has %d pixels, want %d×%d", i, len(im), side, side)
		}
	}
	if n := len(text.Columns); n != 0 && n != cols {
		return fmt.Errorf("plots: ImageGrid: %d column headers, want 0 or cols=%d", n, cols)
	}
	if n := len(text.Labels); n != 0 && n != len(images) {
		return fmt.Errorf("plots: ImageGrid: %d labels, want 0 or len(images)=%d", n, len(images))
	}
	scale := max(1, 112/side)
	cell := side * scale
	const pad = 8
	top := 0 // height of the bands above the first row
	if text.Heading != "" {
		top += headingH
	}
	if len(text.Columns) > 0 {
		top += columnsH
	}
	rowH := cell + pad
	if len(text.Labels) > 0 {
		rowH += labelH
	}
	width := cols*(cell+pad) + pad
	height := top + rows*rowH + pad
	// 72 dpi: one vg point is one pixel; y counts up from the bottom.
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(width), vg.Length(height)), vgimg.UseDPI(72))
	dc := draw.New(c)
	style := func(size vg.Length) draw.TextStyle {
		return draw.TextStyle{Color: color.Black, Font: font.From(sans, size), Handler: plot.DefaultTextHandler,
			XAlign: draw.XCenter, YAlign: draw.YBottom}
	}
	text13, text11 := style(13), style(11)
	y := 0 // pixels from the top
	if text.Heading != "" {
		h := style(15)
		dc.FillText(h, vg.Point{X: vg.Length(width / 2), Y: vg.Length(height - headingH + 6)}, fit(h, text.Heading, vg.Length(width-2*pad)))
		y += headingH
	}
	if len(text.Columns) > 0 {
		for j, t := range text.Columns {
			x := pad + j*(cell+pad) + cell/2
			dc.FillText(text13, vg.Point{X: vg.Length(x), Y: vg.Length(height - y - columnsH + 5)}, fit(text13, t, vg.Length(cell+pad)))
		}
		y += columnsH
	}
	dst := c.Image()
	for i := range images {
		r, col := i/cols, i%cols
		x0 := pad + col*(cell+pad)
		y0 := y + r*rowH + pad
		if len(text.Labels) > 0 {
			dc.FillText(text11, vg.Point{X: vg.Length(x0 + cell/2), Y: vg.Length(height - y0 - labelH + 4)}, fit(text11, text.Labels[i], vg.Length(cell)))
			y0 += labelH
		}
		stddraw.Draw(dst, image.Rect(x0, y0, x0+cell, y0+cell), magnify(images[i], side, scale), image.Point{}, stddraw.Src)
	}
	return writeImage(path, dst)
}

// fit shortens s with "…" until it is at most w wide in style sty.
func fit(sty draw.TextStyle, s string, w vg.Length) string {
	if sty.Width(s) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && sty.Width(string(r)+"…") > w {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

// magnify returns the side×side grayscale image scaled by an integer factor.
func magnify(px []uint8, side, scale int) *image.Gray {
	n := side * scale
	img := image.NewGray(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			img.Pix[y*img.Stride+x] = px[(y/scale)*side+x/scale]
		}
	}
	return img
}

// legendEntry is one line of a legend drawn outside the axes.
type legendEntry struct {
	name   string
	thumbs []plot.Thumbnailer
}

// glyphThumb draws a single glyph as a legend thumbnail.
type glyphThumb draw.GlyphStyle

func (g glyphThumb) Thumbnail(c *draw.Canvas) {
	c.DrawGlyph(draw.GlyphStyle(g), c.Center())
}

func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sans, 15)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 12)
		a.Tick.Label.Font = font.From(sans, 10)
	}
	p.Add(plotter.NewGrid())
	return p
}

// save renders p into a w×h PNG at path. Legend entries, if any, are drawn
// in a column to the right of the axes so they never cover data (p's own
// legend, if filled, is drawn inside the axes as usual).
func save(path string, p *plot.Plot, entries []legendEntry, w, h vg.Length) error {
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
	dc := draw.New(c)
	dc = draw.Crop(dc, vg.Points(6), -vg.Points(10), vg.Points(6), -vg.Points(6))
	if len(entries) == 0 {
		p.Draw(dc)
		return writeImage(path, c.Image())
	}
	leg := plot.NewLegend()
	leg.TextStyle.Font = font.From(sans, 11)
	leg.Padding = vg.Points(4)
	leg.Top, leg.Left = true, true
	leg.ThumbnailWidth = vg.Points(20)
	var textW vg.Length
	for _, e := range entries {
		leg.Add(e.name, e.thumbs...)
		textW = max(textW, leg.TextStyle.Width(e.name))
	}
	legW := textW + leg.ThumbnailWidth + vg.Points(18)
	p.Draw(draw.Crop(dc, 0, -legW, 0, 0))
	// Align the legend's top with the top of the axes (below the title).
	titleH := p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
	leg.Draw(draw.Crop(dc, dc.Size().X-legW+vg.Points(8), 0, 0, -titleH-vg.Points(4)))
	return writeImage(path, c.Image())
}

func writeImage(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("plots: encoding %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	return nil
}

// epochTicks labels integer epochs with a 1-2-5 step giving at most ~10
// labels, with unlabelled minor ticks at the other integers when they are
// not too dense.
type epochTicks struct{}

func (epochTicks) Ticks(lo, hi float64) []plot.Tick {
	step := 1.0
	for mag := 1.0; ; mag *= 10 {
		if (hi-lo)/mag <= 10 {
			step = mag
			break
		}
		if (hi-lo)/(2*mag) <= 10 {
			step = 2 * mag
			break
		}
		if (hi-lo)/(5*mag) <= 10 {
			step = 5 * mag
			break
		}
	}
	minor := 1.0 // integers as minor ticks, unless that is too dense
	if step > 5 {
		minor = step
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/minor) * minor; v <= hi; v += minor {
		t := plot.Tick{Value: v}
		if math.Mod(v, step) == 0 {
			t.Label = fmt.Sprint(v)
		}
		ticks = append(ticks, t)
	}
	return ticks
}
