package scoring

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/metrics"
)

// writeModel writes a model of 2×2 images: the network passes the four
// pixels through (relu of the identity), then sums them pairwise into a
// 2-D embedding (top row, bottom row). Class "top" has its anchor at
// (1, 0), class "bottom" at (0, 1).
func writeModel(t *testing.T, activation string) Files {
	t.Helper()
	dir := t.TempDir()
	id := []float32{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}
	rows := []float32{1, 0, 1, 0, 0, 1, 0, 1} // 4×2: pixels 0,1 → e0; 2,3 → e1
	layers := []artifacts.Dense{
		{In: 4, Out: 4, W: id, B: make([]float32, 4), Activation: "relu"},
		{In: 4, Out: 2, W: rows, B: make([]float32, 2), Activation: activation},
	}
	f := Files{Model: filepath.Join(dir, "model"), Anchors: filepath.Join(dir, "anchors.npy"),
		Thresholds: filepath.Join(dir, "thresholds.json"), Classes: filepath.Join(dir, "classes.txt")}
	must(t, os.MkdirAll(f.Model, 0o755))
	must(t, artifacts.WriteMLP(f.Model, layers, nil))
	must(t, artifacts.WriteNPY(f.Anchors, []float32{1, 0, 0, 1}, 2, 2))
	th := &Thresholds{Classes: []string{"top", "bottom"}, Thresholds: []float64{0.1, 0.2}}
	must(t, th.Write(f.Thresholds))
	must(t, os.WriteFile(f.Classes, []byte("top\nbottom\n"), 0o644))
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var pre2 = Preprocess{ImageSize: 2, Filter: "bilinear"}

func TestScore(t *testing.T) {
	m, err := Open(writeModel(t, "linear"), pre2)
	if err != nil {
		t.Fatal(err)
	}
	images := []uint8{
		255, 255, 0, 0, // all top: distance 0 to "top"
		255, 255, 40, 0, // mostly top
		0, 10, 200, 255, // mostly bottom
		100, 0, 100, 0, // between: 45 degrees from both
		0, 0, 0, 0, // black: a zero embedding is at distance 1 from all
	}
	got := m.Score(images, 5, nil)
	for i, r := range got {
		px := images[i*4 : (i+1)*4]
		e := []float32{float32(float64(px[0])/255) + float32(float64(px[1])/255), float32(float64(px[2])/255) + float32(float64(px[3])/255)}
		d := []float64{1 - metrics.Cosine(e, []float32{1, 0}), 1 - metrics.Cosine(e, []float32{0, 1})}
		c := 0
		if d[1] < d[0] {
			c = 1
		}
		th := []float64{0.1, 0.2}[c]
		if r.Class != c || math.Abs(r.Distance-d[c]) > 1e-6 || math.Abs(r.Score-d[c]/th) > 1e-5 || r.Pass != (r.Distance <= th) {
			t.Errorf("image %d: %+v, want class %d at %v", i, r, c, d[c])
		}
	}
	if got[0].Distance > 1e-6 || !got[0].Pass || got[2].Class != 1 || !got[1].Pass || got[3].Pass || got[4].Distance != 1 {
		t.Errorf("results %+v", got)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(f Files)
		pre    Preprocess
		want   string
	}{
		{"image size", nil, Preprocess{ImageSize: 3, Filter: "bilinear"}, "3×3 pixels do not fit the network's 4 inputs"},
		{"filter", nil, Preprocess{ImageSize: 2, Filter: "lanczos"}, `unknown filter "lanczos"`},
		{"three classes", func(f Files) { os.WriteFile(f.Classes, []byte("a\nb\nc\n"), 0o644) }, pre2, "3 classes in classes.txt, 2 anchors"},
		{"anchors of another width", func(f Files) { artifacts.WriteNPY(f.Anchors, []float32{1, 0, 0}, 1, 3) }, pre2, "want (classes, 2)"},
		{"no thresholds", func(f Files) { os.Remove(f.Thresholds) }, pre2, "thresholds.json"},
		{"no model", func(f Files) { os.Remove(filepath.Join(f.Model, "model.json")) }, pre2, "read model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := writeModel(t, "linear")
			if tc.break_ != nil {
				tc.break_(f)
			}
			if _, err := Open(f, tc.pre); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open: %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := Open(writeModel(t, "relu"), pre2); err == nil || !strings.Contains(err.Error(), `activation "relu"`) {
		t.Errorf("a network that is not ours: %v", err)
	}
}

func writePNG(t *testing.T, path string, w, h int, v uint8) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	var b bytes.Buffer
	must(t, png.Encode(&b, img))
	must(t, os.MkdirAll(filepath.Dir(path), 0o755))
	must(t, os.WriteFile(path, b.Bytes(), 0o644))
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "imgs", "b", "1.png"), 2, 2, 10)
	writePNG(t, filepath.Join(dir, "imgs", "a", "2.PNG"), 8, 8, 20) // resized
	writePNG(t, filepath.Join(dir, "imgs", ".hidden", "3.png"), 2, 2, 30)
	must(t, os.WriteFile(filepath.Join(dir, "imgs", "notes.txt"), []byte("not an image"), 0o644))
	rgb := image.NewRGBA(image.Rect(0, 0, 2, 2))
	for i := range 4 {
		rgb.Set(i%2, i/2, color.RGBA{R: 255, A: 255})
	}
	var b bytes.Buffer
	must(t, png.Encode(&b, rgb))
	single := filepath.Join(dir, "red.png")
	must(t, os.WriteFile(single, b.Bytes(), 0o644))
	npy := filepath.Join(dir, "x.npy")
	must(t, artifacts.WriteNPY(npy, []uint8{1, 1, 1, 1, 2, 2, 2, 2}, 2, 2, 2))

	var names []string
	var pixels []uint8
	err := Read(context.Background(), []string{npy, filepath.Join(dir, "imgs"), single}, pre2, func(n []string, p []uint8) error {
		names, pixels = append(names, n...), append(pixels, p...)
		return nil
	})
	must(t, err)
	want := []string{npy + "[0]", npy + "[1]", filepath.Join(dir, "imgs", "a", "2.PNG"), filepath.Join(dir, "imgs", "b", "1.png"), single}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("names %q, want %q", names, want)
	}
	red := uint8(76) // BT.601 luma of pure red
	wantPx := []uint8{1, 1, 1, 1, 2, 2, 2, 2, 20, 20, 20, 20, 10, 10, 10, 10, red, red, red, red}
	if !bytes.Equal(pixels, wantPx) {
		t.Errorf("pixels %v, want %v", pixels, wantPx)
	}

	bad := filepath.Join(dir, "bad.png")
	must(t, os.WriteFile(bad, []byte("\x89PNG but not really"), 0o644))
	floats := filepath.Join(dir, "f.npy")
	must(t, artifacts.WriteNPY(floats, []float32{1, 2, 3, 4}, 1, 2, 2))
	wide := filepath.Join(dir, "wide.npy")
	must(t, artifacts.WriteNPY(wide, make([]uint8, 9), 1, 3, 3))
	empty := filepath.Join(dir, "empty")
	must(t, os.MkdirAll(empty, 0o755))
	for _, tc := range []struct{ path, want string }{
		{bad, bad + ": not a PNG or JPEG image"},
		{floats, "dtype float32, want uint8"},
		{wide, "shape [1 3 3], want uint8 images (N, 2, 2)"},
		{empty, "no image files"},
		{filepath.Join(dir, "imgs", "notes.txt"), "not an image file"},
		{filepath.Join(dir, "nope.png"), "no such file"},
	} {
		err := Read(context.Background(), []string{tc.path}, pre2, func([]string, []uint8) error { return nil })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", filepath.Base(tc.path), err, tc.want)
		}
	}
}

func TestWriter(t *testing.T) {
	names := []string{"a.png", `odd, "name".png`}
	res := []Result{{Class: 1, Distance: 0.0123456789, Score: 0.5, Pass: true}, {Class: 0, Distance: 0.9, Score: 9, Pass: false}}
	classes := []string{"T-shirt/top", "Trouser"}
	write := func(format string, batches int) string {
		var b bytes.Buffer
		w, err := NewWriter(&b, format, classes)
		must(t, err)
		for range batches {
			must(t, w.Write(names, res))
		}
		must(t, w.Close())
		return b.String()
	}
	rec, err := csv.NewReader(strings.NewReader(write("csv", 1))).ReadAll()
	must(t, err)
	if len(rec) != 3 || strings.Join(rec[0], ",") != "path,class,distance,anomaly_score,pass" ||
		strings.Join(rec[2], "|") != `odd, "name".png|T-shirt/top|0.900000|9.000000|false` {
		t.Errorf("csv %q", rec)
	}
	for _, batches := range []int{0, 2} {
		var rows []map[string]any
		if err := json.Unmarshal([]byte(write("json", batches)), &rows); err != nil || len(rows) != 2*batches {
			t.Fatalf("json of %d batches: %v, %v", batches, rows, err)
		}
		if batches > 0 && (rows[0]["class"] != "Trouser" || rows[0]["distance"] != 0.012346 || rows[1]["pass"] != false || rows[1]["path"] != names[1]) {
			t.Errorf("json rows %v", rows)
		}
	}
	table := write("table", 1)
	if lines := strings.Split(strings.TrimSpace(table), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "PATH") ||
		!strings.Contains(lines[1], "Trouser      0.012346  0.500000") {
		t.Errorf("table:\n%s", table)
	}
	if _, err := NewWriter(&bytes.Buffer{}, "xml", classes); err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("unknown format: %v", err)
	}
}
