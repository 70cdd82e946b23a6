package scoring

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestQuantile(t *testing.T) {
	seq := func(n int) []float64 {
		d := make([]float64, n)
		for i := range d {
			d[i] = float64(n - i) // unsorted on purpose
		}
		return d
	}
	for _, tc := range []struct {
		name string
		d    []float64
		fpr  float64
		want float64
	}{
		{"1 of 20 may exceed", seq(20), 0.05, 19},
		{"none may exceed", seq(20), 0, 20},
		{"half", seq(20), 0.5, 10},
		{"fewer than one image's worth", seq(10), 0.05, 10},
		{"one image", []float64{0.3}, 0.5, 0.3},
		{"almost all", seq(3), 0.99, 1},
		{"ties", []float64{0.1, 0.2, 0.2, 0.2}, 0.5, 0.2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Quantile(tc.d, tc.fpr)
			if got != tc.want {
				t.Fatalf("Quantile = %v, want %v", got, tc.want)
			}
			if f := beyond(tc.d, got); f > tc.fpr {
				t.Errorf("%v of the values exceed it, more than %v", f, tc.fpr)
			}
		})
	}
}

// unit returns the 2-D unit vector at deg degrees.
func unit(deg float64) []float32 {
	r := deg * math.Pi / 180
	return []float32{float32(math.Cos(r)), float32(math.Sin(r))}
}

func set(labels []int, degs ...float64) Set {
	s := Set{Labels: labels}
	for _, d := range degs {
		s.Emb = append(s.Emb, unit(d)...)
	}
	return s
}

func TestAnchors(t *testing.T) {
	ref := set([]int{0, 0, 1}, 10, -10, 90)
	other := set([]int{2}, 180)
	a, err := Anchors(ref, other, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	c10 := float32(math.Cos(10 * math.Pi / 180))
	want := []float32{c10, 0, 0, 1, -1, 0}
	for i := range want {
		if math.Abs(float64(a[i]-want[i])) > 1e-6 {
			t.Fatalf("anchors %v, want %v", a, want)
		}
	}
	if _, err := Anchors(ref, Set{}, 2, 3); err == nil || !strings.Contains(err.Error(), "class 2 has no image") {
		t.Errorf("a class without images: %v", err)
	}
	if _, err := Anchors(set([]int{5}, 0), Set{}, 2, 3); err == nil || !strings.Contains(err.Error(), "label 5 out of range") {
		t.Errorf("a label beyond the classes: %v", err)
	}
}

func TestChoose(t *testing.T) {
	anchors := append(unit(0), unit(90)...)
	// Class 0's held-out images at 0, 1, ..., 19 and 45 degrees from its
	// anchor; class 1 has none held out, only reference images.
	var degs []float64
	for i := range 20 {
		degs = append(degs, float64(i))
	}
	degs = append(degs, 45)
	held := set(make([]int, len(degs)), degs...)
	ref := set([]int{1, 1, 1, 0}, 80, 90, 100, 0)
	th, err := Choose(anchors, 2, []string{"zero", "one"}, held, ref, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	// 21 held-out images of class 0: ⌊0.05·21⌋ = 1 may exceed, so the
	// threshold is the distance at 19 degrees.
	if want := 1 - math.Cos(19*math.Pi/180); math.Abs(th.Thresholds[0]-want) > 1e-6 {
		t.Errorf("class 0 threshold %v, want %v", th.Thresholds[0], want)
	}
	c0, c1 := th.PerClass[0], th.PerClass[1]
	if c0.Source != "held-out" || c0.Images != 21 || math.Abs(c0.FPR-1.0/21) > 1e-12 || c0.TPR != 0 {
		t.Errorf("class 0: %+v", c0)
	}
	// Class 1, from the reference: 3 images, none may exceed (⌊0.15⌋ = 0):
	// the threshold is the distance at 10 degrees; the class-0 reference
	// image at 90 degrees from it lies beyond.
	if c1.Source != "reference" || c1.Images != 3 || c1.FPR != 0 || c1.TPR != 1 ||
		math.Abs(c1.Threshold-(1-math.Cos(10*math.Pi/180))) > 1e-6 {
		t.Errorf("class 1: %+v", c1)
	}
	// Scoring flags one held-out image: the one at 45 degrees, beyond the
	// threshold of either anchor (it is as near to both).
	if th.Flagged != 1.0/21 {
		t.Errorf("held_out_flagged %v, want 1/21", th.Flagged)
	}
	if th.TargetFPR != 0.05 || len(th.Classes) != 2 || th.Classes[1] != "one" || !strings.Contains(th.Method, "held-out") {
		t.Errorf("thresholds: %+v", th)
	}

	path := filepath.Join(t.TempDir(), "thresholds.json")
	if err := th.Write(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadThresholds(path)
	if err != nil || back.Thresholds[0] != th.Thresholds[0] || back.PerClass[1].Name != "one" {
		t.Errorf("read back %+v, %v", back, err)
	}

	for _, tc := range []struct {
		name  string
		fpr   float64
		names []string
		want  string
	}{
		{"fpr 1", 1, []string{"zero", "one"}, "false-positive rate 1"},
		{"fpr NaN", math.NaN(), []string{"zero", "one"}, "false-positive rate NaN"},
		{"anchors for other classes", 0.05, []string{"zero", "one", "two"}, "4 anchor values for 3 classes"},
	} {
		if _, err := Choose(anchors, 2, tc.names, held, ref, tc.fpr); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestReadThresholdsErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"not json":     `{`,
		"no classes":   `{"classes": [], "thresholds": []}`,
		"mismatched":   `{"classes": ["a", "b"], "thresholds": [0.1]}`,
		"negative":     `{"classes": ["a"], "thresholds": [-0.1]}`,
		"wrong type":   `{"classes": ["a"], "thresholds": ["x"]}`,
		"not an array": `[1, 2]`,
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadThresholds(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzReadThresholds: any bytes give a checked Thresholds or an error.
func FuzzReadThresholds(f *testing.F) {
	f.Add([]byte(`{"classes": ["a", "b"], "thresholds": [0.1, 0.2], "target_fpr": 0.05}`))
	f.Add([]byte(`{"classes": ["a"], "thresholds": [NaN]}`))
	f.Add([]byte(`null`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "t.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		th, err := ReadThresholds(path)
		if err != nil {
			return
		}
		if len(th.Classes) == 0 || len(th.Classes) != len(th.Thresholds) {
			t.Fatalf("accepted %d classes and %d thresholds", len(th.Classes), len(th.Thresholds))
		}
		for _, v := range th.Thresholds {
			if !(v >= 0) {
				t.Fatalf("accepted threshold %v", v)
			}
		}
	})
}
