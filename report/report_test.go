package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/history"
	"github.com/siamese-pipeline/siamese/internal/testenv"
)

var t0 = time.Date(2026, 11, 29, 22, 15, 0, 0, time.UTC)

var classNames = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// sample is a run that failed its gate, the OK run before it, and the
// full metrics.json of the run.
func sample() (cur, prev *history.Run, metrics map[string]any) {
	params := func(perClass int, lr float64) map[string]map[string]any {
		return map[string]map[string]any{
			"ingest":   {"dataset": "fashion", "source": ""},
			"triplets": {"per_class": perClass, "seed": 42, "rng": "numpy"},
			"split":    {"test_size": 0.05, "seed": 42},
			"train":    {"hidden": []int{512, 256, 128}, "margin": 0.4, "lr": lr, "batch": 32, "epochs": 10, "patience": 2, "seed": 42},
		}
	}
	stages := []history.Stage{
		{Name: "ingest", Outcome: "cached", Reason: "outputs up to date"},
		{Name: "triplets", Outcome: "ran", Reason: "params changed: per_class", Seconds: 2.4},
		{Name: "flatten", Outcome: "ran", Reason: "input changed", Seconds: 1.1},
		{Name: "split", Outcome: "ran", Reason: "input changed", Seconds: 0.6},
		{Name: "train", Outcome: "ran", Reason: "input changed", Seconds: 184.2},
		{Name: "evaluate", Outcome: "ran", Reason: "input changed", Seconds: 12.9},
	}
	prev = &history.Run{ID: "20261128T220000Z-77aa", Start: t0.Add(-24 * time.Hour), End: t0.Add(-24*time.Hour + 150*time.Second),
		Program: "siamese v0.9.0", Pipeline: "sha256:3f1c…", Params: params(3000, 3e-5), Outcome: history.OK,
		Metrics: map[string]float64{"roc_auc": 0.9655, "pr_auc": 0.9601, "binary_accuracy": 0.9012, "best_accuracy": 0.9123,
			"best_threshold": 0.71, "knn_accuracy_k1": 0.8412, "map_at_r": 0.612, "train_seconds": 140, "test_triplets": 1000}}
	cur = &history.Run{ID: "20261129T221500Z-a3f9", Start: t0, End: t0.Add(201*time.Second + 500*time.Millisecond),
		Program: "siamese v1.0.0", Pipeline: "sha256:9be2…", Params: params(2000, 3e-5), Outcome: history.GateFailed,
		Stages: stages, Error: "quality gate: roc_auc 0.9712 is 0.0057 above … <b>not bold</b>",
		Metrics: map[string]float64{"roc_auc": 0.97123, "pr_auc": 0.9588, "binary_accuracy": 0.9012, "best_accuracy": 0.9201,
			"best_threshold": 0.69, "knn_accuracy_k1": 0.8533, "knn_accuracy_k5": 0.8702, "precision_at_1": 0.8533,
			"map_at_r": math.NaN(), "train_seconds": 184.2, "test_triplets": 1500, "query_images": 10000},
		Gate: []history.Check{
			{Metric: "roc_auc", Rule: "roc_auc ≥ 0.96", Value: 0.97123, Pass: true},
			{Metric: "knn_accuracy_k1", Rule: "knn_accuracy_k1 ≥ 0.9", Value: 0.8533, Pass: false, Message: "0.8533 is below 0.9"},
		}}
	var pc []any
	for i, n := range classNames {
		pc = append(pc, map[string]any{"class": float64(i), "name": n,
			"anomaly_auroc_mean_embedding": 0.80 + 0.019*float64(i), "anomaly_auroc_mean_image": 0.7 + 0.01*float64(i)})
	}
	raw, _ := json.Marshal(map[string]any{"roc_auc": 0.97123, "test_triplets": 1500, "per_class": pc,
		"mining": "batch-all", "held_out": "images 60000 to 69999 & the test triplets'"})
	json.Unmarshal(raw, &metrics) // as the caller reads metrics.json
	return cur, prev, metrics
}

// plotPNG draws a small plot-like PNG: axes and a curve y = f(x), x in [0,1].
func plotPNG(t *testing.T, path string, f func(float64) float64, c color.RGBA) {
	t.Helper()
	const w, h, m = 480, 320, 30
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.White)
		}
	}
	grey := color.RGBA{140, 140, 140, 255}
	for x := m; x < w-m/2; x++ {
		img.Set(x, h-m, grey)
	}
	for y := m / 2; y < h-m; y++ {
		img.Set(m, y, grey)
	}
	for px := 0; px < 4*(w-2*m); px++ {
		x := float64(px) / float64(4*(w-2*m))
		cx, cy := m+int(x*float64(w-2*m)), h-m-int(f(x)*float64(h-2*m))
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				img.Set(cx+dx, cy+dy, c)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// render writes a sample report into dir and returns its path and HTML.
func render(t *testing.T, dir string) (string, string) {
	t.Helper()
	cur, prev, metrics := sample()
	roc, loss := filepath.Join(dir, "roc.png"), filepath.Join(dir, "loss.png")
	plotPNG(t, roc, func(x float64) float64 { return math.Pow(x, 0.08) }, color.RGBA{9, 105, 218, 255})
	plotPNG(t, loss, func(x float64) float64 { return 0.1 + 0.8*math.Exp(-4*x) }, color.RGBA{207, 34, 46, 255})
	notImage := filepath.Join(dir, "notes.txt")
	os.WriteFile(notImage, []byte("just text"), 0o644)
	path := filepath.Join(dir, "out", "report.html")
	err := Write(path, Input{Run: cur, Previous: prev, Metrics: metrics, Model: sampleModel(), Trend: trendPNG(t, dir), Images: []Image{
		{Title: "ROC curve", Path: roc},
		{Title: "Training loss", Path: loss},
		{Title: "Similarity histogram", Path: filepath.Join(dir, "missing.png")},
		{Path: notImage},
	}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, string(b)
}

// cell returns the text of the element with the given id in an HTML
// document, tags stripped and entities decoded.
func cell(doc, id string) (string, bool) {
	re := regexp.MustCompile(`<(\w+)[^>]*\sid="` + regexp.QuoteMeta(id) + `"[^>]*>(.*?)</(\w+)>`)
	m := re.FindStringSubmatch(doc)
	if m == nil {
		return "", false
	}
	return strings.TrimSpace(html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(m[2], ""))), true
}

// checkContent checks what the report shows, in the HTML as written or in
// the DOM a browser built from it.
func checkContent(t *testing.T, doc string) {
	t.Helper()
	for id, want := range map[string]string{
		"run-id":                 "20261129T221500Z-a3f9",
		"run-outcome":            "gate failed",
		"run-program":            "siamese v1.0.0",
		"run-start":              "2026-11-29 22:15:00 UTC",
		"run-duration":           "3 min 21 s",
		"metric-roc_auc":         "0.9712",
		"prev-roc_auc":           "0.9655",
		"delta-roc_auc":          "▲ +0.00573",
		"metric-pr_auc":          "0.9588",
		"delta-pr_auc":           "▼ -0.0013",
		"delta-binary_accuracy":  "= ±0",
		"metric-knn_accuracy_k5": "0.8702",
		"prev-knn_accuracy_k5":   "—",
		"metric-map_at_r":        "NaN",
		"delta-map_at_r":         "—",
		"delta-train_seconds":    "▲ +44.2",
		"per-class-0-anomaly_auroc_mean_embedding": "0.8",
		"per-class-9-anomaly_auroc_mean_embedding": "0.971",
		"per-class-9-anomaly_auroc_mean_image":     "0.79",
		"metric-test_triplets":                     "1500",
		"delta-test_triplets":                      "▲ +500",
		"metric-query_images":                      "10000",
	} {
		got, ok := cell(doc, id)
		if !ok {
			t.Errorf("no element with id %q", id)
		} else if got != want {
			t.Errorf("#%s = %q, want %q", id, got, want)
		}
	}
	for _, frag := range []string{
		`class="badge warn" id="run-outcome"`,
		`data-metric="roc_auc"`,
		`id="delta-roc_auc" data-metric="roc_auc" data-change="better"`,
		`id="delta-pr_auc" data-metric="pr_auc" data-change="worse"`,
		`id="delta-train_seconds" data-metric="train_seconds" data-change="worse"`,
		`id="delta-best_threshold" data-metric="best_threshold" data-change="neutral"`, `id="delta-binary_accuracy" data-metric="binary_accuracy" data-change="same"`,
		"Ankle boot", "knn_accuracy_k1 ≥ 0.9", "0.8533 is below 0.9", `data-pass="false"`,
		"params changed: per_class", "184.20", "AUROC, mean embedding",
		`id="delta-test_triplets" data-metric="test_triplets" data-change="neutral"`,
		"Similarity histogram", "missing.png does not exist", "notes.txt is not an image",
		"ROC curve", "Training loss", `src="data:image/png;base64,iVBOR`,
		"triplets.per_class", "3000", "2000", "[512,256,128]", `&#34;fashion&#34;`,
		"&lt;b&gt;not bold&lt;/b&gt;",
	} {
		if !strings.Contains(doc, frag) && !strings.Contains(doc, strings.ReplaceAll(frag, "&#34;", `"`)) {
			t.Errorf("report lacks %q", frag)
		}
	}
	if n := strings.Count(doc, "<img "); n != 3 {
		t.Errorf("%d images, want 3 (two plots and the trend)", n)
	}
}

func TestWrite(t *testing.T) {
	_, doc := render(t, t.TempDir())
	checkContent(t, doc)
	if want := `id="trained-by">Trained by <code>batch-all</code>; never trained on: images 60000 to 69999 &amp; the test triplets&#39;.</p>`; !strings.Contains(doc, want) {
		t.Errorf("report lacks %s", want)
	}
	// Nothing to load: every src and href is a data: URI or a fragment.
	for _, m := range regexp.MustCompile(`(?i)\b(src|href|action|srcset|poster)\s*=\s*"([^"]*)"`).FindAllStringSubmatch(doc, -1) {
		if !strings.HasPrefix(m[2], "data:") && !strings.HasPrefix(m[2], "#") {
			t.Errorf("report refers to %s=%q", m[1], m[2])
		}
	}
	for _, bad := range []string{"url(", "@import", "<script", "http://", "https://", "//cdn"} {
		if strings.Contains(doc, bad) {
			t.Errorf("report contains %q", bad)
		}
	}
}

func TestWriteMinimal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.html")
	if err := Write(path, Input{Run: &history.Run{ID: "x", Outcome: history.Failed, Error: "boom"}}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	doc := string(b)
	for _, frag := range []string{`class="badge bad" id="run-outcome"`, "no previous run", "This run recorded no metrics.", "boom"} {
		if !strings.Contains(doc, frag) {
			t.Errorf("minimal report lacks %q", frag)
		}
	}
	for _, frag := range []string{`id="per-class"`, `id="changes"`, `id="plots"`, `id="gate"`, `id="trained-by"`} {
		if strings.Contains(doc, frag) {
			t.Errorf("minimal report has %q", frag)
		}
	}
	if err := Write(path, Input{}); err == nil {
		t.Error("Write without a run: no error")
	}
}

const chromiumPath = "/usr/bin/chromium"

func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		testenv.Missing(t, fmt.Sprintf("headless browser test: %s not found (Debian: apt-get install -y chromium)", chromiumPath))
	}
}

// chromium runs headless Chromium with args and the URL of file, and returns
// its stdout and the browser's log (stderr).
func chromium(t *testing.T, file string, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, chromiumPath, append(append(base, args...), "file://"+file)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.String(), stderr.String()
}

// pageErrors are the lines of a Chromium log that tell of a problem with
// the page: console messages (a page without scripts logs none; Content
// Security Policy violations are logged there), uncaught exceptions and
// failed loads.
func pageErrors(log string) []string {
	var bad []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, ":CONSOLE") || strings.Contains(line, "Uncaught") ||
			strings.Contains(line, "net::ERR_") || strings.Contains(line, "Failed to load") ||
			strings.Contains(line, "Content Security Policy") {
			bad = append(bad, line)
		}
	}
	return bad
}

func TestBrowser(t *testing.T) {
	needChromium(t)
	dir := t.TempDir()
	path, doc := render(t, dir)

	t.Run("dom", func(t *testing.T) {
		dom, log := chromium(t, path, "--dump-dom")
		if !strings.Contains(dom, `id="metric-roc_auc"`) {
			t.Fatalf("dumped DOM lacks the metrics:\n%.2000s", dom)
		}
		checkContent(t, dom)
		if bad := pageErrors(log); len(bad) > 0 {
			t.Errorf("the page logged errors:\n%s", strings.Join(bad, "\n"))
		}
	})

	t.Run("loads", func(t *testing.T) {
		// A copy of the page without its Content Security Policy (which
		// would block, not reveal, any load) and with a probe that records,
		// once the page has loaded, the resources it fetched and whether
		// each image decoded.
		probe := `<script>addEventListener("load", () => { document.body.setAttribute("data-probe", JSON.stringify({
  resources: performance.getEntriesByType("resource").map(e => e.name),
  images: [...document.images].map(i => ({ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth, alt: i.alt})) })); });</script>`
		csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy"[^>]*>`)
		if !csp.MatchString(doc) {
			t.Fatal("report has no Content-Security-Policy")
		}
		probed := csp.ReplaceAllString(strings.Replace(doc, "</body>", probe+"</body>", 1), "")
		pp := filepath.Join(dir, "out", "probe.html")
		if err := os.WriteFile(pp, []byte(probed), 0o644); err != nil {
			t.Fatal(err)
		}
		dom, log := chromium(t, pp, "--dump-dom")
		m := regexp.MustCompile(`data-probe="([^"]*)"`).FindStringSubmatch(dom)
		if m == nil {
			t.Fatalf("probe did not run:\n%s", strings.Join(pageErrors(log), "\n"))
		}
		var res struct {
			Resources []string
			Images    []struct {
				OK  bool
				W   int
				Alt string
			}
		}
		if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &res); err != nil {
			t.Fatal(err)
		}
		if len(res.Resources) > 0 {
			t.Errorf("the page fetched %v", res.Resources)
		}
		if len(res.Images) != 3 {
			t.Errorf("%d images, want 3", len(res.Images))
		}
		for _, im := range res.Images {
			if want := map[bool]int{true: trendWidth, false: 480}[im.Alt == trendTitle]; !im.OK || im.W != want {
				t.Errorf("image %q did not load: %+v", im.Alt, im)
			}
		}
		if bad := pageErrors(log); len(bad) > 0 {
			t.Errorf("the page logged errors:\n%s", strings.Join(bad, "\n"))
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		shot := os.Getenv("REPORT_SCREENSHOT")
		if shot == "" {
			shot = filepath.Join(t.TempDir(), "report.png")
		} else if abs, err := filepath.Abs(shot); err == nil {
			shot = abs
		}
		os.Remove(shot)
		_, log := chromium(t, path, "--screenshot="+shot, "--window-size=1280,2000")
		f, err := os.Open(shot)
		if err != nil {
			t.Fatalf("no screenshot: %v\n%s", err, log)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatalf("screenshot %s: %v", shot, err)
		}
		if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2000 {
			t.Errorf("screenshot is %v, want 1280×2000", b)
		}
		if n := colours(img); n < 20 {
			t.Errorf("screenshot %s looks blank: %d colours", shot, n)
		}
		checkShot(t, img, path)
		t.Logf("screenshot: %s", shot)
	})
}

// colours counts the distinct colours in img, sampled on a grid.
func colours(img image.Image) int {
	seen := map[string]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[fmt.Sprint(r>>8, g>>8, bl>>8)] = true
		}
	}
	return len(seen)
}
