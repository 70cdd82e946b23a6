package report

import (
	"encoding/json"
	"html"
	"image"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/plots"
)

const (
	trendTitle = "Gate metrics, last 6 runs"
	trendWidth = 800 // plots.Trend's PNG is 8 in at 100 dpi
)

func sampleModel() *Model {
	return &Model{Why: "the quality gate failed", Current: "20261128T220000Z-77aa", CurrentPromoted: t0.Add(-24*time.Hour + 151*time.Second)}
}

// trendPNG draws the trend plot the run would show: two gate metrics over
// six runs, with the gate's minimum for each.
func trendPNG(t *testing.T, dir string) *Image {
	t.Helper()
	path := filepath.Join(dir, "trend.png")
	runs := []string{"11-24 22:15", "11-25 22:15", "11-26 22:15", "11-27 22:15", "11-28 22:00", "11-29 22:15"}
	series := []plots.Series{
		{Name: "roc_auc", Values: []float64{0.962, 0.9655, math.NaN(), 0.968, 0.9655, 0.97123}},
		{Name: "knn_accuracy_k1", Values: []float64{0.83, 0.835, 0.84, 0.845, 0.8412, 0.8533}},
	}
	levels := []plots.Level{{Series: "roc_auc", Y: 0.96, Label: "roc_auc ≥ 0.96"}, {Series: "knn_accuracy_k1", Y: 0.9, Label: "knn_accuracy_k1 ≥ 0.9"}}
	if err := plots.Trend(path, "Quality gate metrics", runs, series, levels); err != nil {
		t.Fatal(err)
	}
	return &Image{Title: trendTitle, Path: path}
}

func TestModelAndTrend(t *testing.T) {
	cur, prev, _ := sample()
	dir := t.TempDir()
	trend := trendPNG(t, dir)
	for _, c := range []struct {
		name       string
		model      *Model
		trend      *Image
		promotion  string // the text of #model-promotion, "" for none
		current    string
		trendShown bool
	}{
		{"not promoted", sampleModel(), trend, "not promoted the quality gate failed",
			"20261128T220000Z-77aa, promoted 2026-11-28 22:17:31 UTC", true},
		{"promoted", &Model{Promoted: true, Current: cur.ID, CurrentPromoted: t0.Add(202 * time.Second)}, nil,
			"promoted now the current model", "20261129T221500Z-a3f9 (this run), promoted 2026-11-29 22:18:22 UTC", false},
		{"none current", &Model{Why: "no quality gate was checked"}, trend, "not promoted no quality gate was checked", "none promoted yet", true},
		{"no model", nil, nil, "", "", false},
	} {
		path := filepath.Join(dir, "r.html")
		if err := Write(path, Input{Run: cur, Previous: prev, Model: c.model, Trend: c.trend}); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		doc := string(b)
		for id, want := range map[string]string{"model-promotion": c.promotion, "current-model": c.current} {
			got, ok := fact(doc, id)
			if ok != (want != "") || strings.Join(strings.Fields(got), " ") != want {
				t.Errorf("%s: #%s = %q (present %v), want %q", c.name, id, got, ok, want)
			}
		}
		if got := strings.Contains(doc, `id="trend-plot"><img src="data:image/png;base64,`); got != c.trendShown {
			t.Errorf("%s: trend plot shown %v, want %v", c.name, got, c.trendShown)
		}
	}
	// A trend plot that cannot be read is a note, not a broken image.
	path := filepath.Join(dir, "r.html")
	if err := Write(path, Input{Run: cur, Trend: &Image{Title: "trend", Path: filepath.Join(dir, "none.png")}}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if doc := string(b); strings.Contains(doc, `id="trend"`) || !strings.Contains(doc, "none.png does not exist") {
		t.Error("a missing trend plot: want no trend section and a note")
	}
}

// fact returns the text of the <dd> with the given id, tags stripped.
func fact(doc, id string) (string, bool) {
	m := regexp.MustCompile(`<dd id="` + regexp.QuoteMeta(id) + `"[^>]*>(.*?)</dd>`).FindStringSubmatch(doc)
	if m == nil {
		return "", false
	}
	return strings.TrimSpace(html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(m[1], ""))), true
}

// checkShot checks that the screenshot img of the report at path shows the
// promotion line and the trend plot: Chromium lays out a copy of the page
// at the screenshot's size and says where both are; both must lie inside
// the screenshot, the plot drawn (many colours) and the line written
// (dark text).
func checkShot(t *testing.T, img image.Image, path string) {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	probe := `<script>addEventListener("load", () => { const r = s => { const e = document.querySelector(s); if (!e) return null;
  const b = e.getBoundingClientRect(); return {x: b.left, y: b.top, w: b.width, h: b.height}; };
  document.body.setAttribute("data-rects", JSON.stringify({trend: r("#trend-plot img"), promotion: r("#model-promotion")})); });</script>`
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy"[^>]*>`)
	probed := csp.ReplaceAllString(strings.Replace(string(doc), "</body>", probe+"</body>", 1), "")
	pp := filepath.Join(filepath.Dir(path), "rects.html")
	if err := os.WriteFile(pp, []byte(probed), 0o644); err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	dom, log := chromium(t, pp, "--dump-dom", "--window-size=1280,2000")
	m := regexp.MustCompile(`data-rects="([^"]*)"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("probe did not run:\n%s", strings.Join(pageErrors(log), "\n"))
	}
	type rect struct{ X, Y, W, H float64 }
	var rects struct{ Trend, Promotion *rect }
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &rects); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		r    *rect
		ok   func(image.Rectangle) (int, bool)
	}{
		{"trend plot", rects.Trend, func(r image.Rectangle) (int, bool) { n := colours(sub(img, r)); return n, n >= 20 }},
		{"promotion line", rects.Promotion, func(r image.Rectangle) (int, bool) { n := darkPixels(img, r); return n, n >= 50 }},
	} {
		if c.r == nil {
			t.Errorf("the report shows no %s", c.name)
			continue
		}
		r := image.Rect(int(c.r.X), int(c.r.Y), int(c.r.X+c.r.W), int(c.r.Y+c.r.H))
		if r.Empty() || !r.In(b) {
			t.Errorf("the %s at %v is not inside the %v screenshot", c.name, r, b)
			continue
		}
		if n, ok := c.ok(r); !ok {
			t.Errorf("the screenshot shows no %s at %v (%d)", c.name, r, n)
		}
	}
}

type subImage struct {
	image.Image
	r image.Rectangle
}

func (s subImage) Bounds() image.Rectangle { return s.r }

func sub(img image.Image, r image.Rectangle) image.Image { return subImage{img, r} }

// darkPixels counts the pixels of text colour (darker than mid-grey) in r.
func darkPixels(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c, g, bl, _ := img.At(x, y).RGBA()
			if (c+g+bl)/3 < 0x8000 {
				n++
			}
		}
	}
	return n
}
