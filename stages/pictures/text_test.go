package pictures

import (
	"context"
	"image"
	"path/filepath"
	"slices"
	"testing"

	"github.com/siamese-pipeline/siamese/internal/pngtest"
	"github.com/siamese-pipeline/siamese/plots"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

func TestPictureText(t *testing.T) {
	names := []string{"T-shirt/top", "Trouser", ""}
	labels := []uint8{0, 1, 0, 2, 5}
	for _, c := range []struct {
		class int
		want  string
	}{{0, "Class 0: T-shirt/top"}, {1, "Class 1: Trouser"}, {2, "Class 2: class 2"}, {7, "Class 7: class 7"}} {
		if got := samplesText(names, c.class).Heading; got != c.want {
			t.Errorf("samples of class %d: heading %q, want %q", c.class, got, c.want)
		}
	}
	got := tripletText(names, labels, []int64{0, 2, 1, 3, 3, 4})
	want := []string{"T-shirt/top", "T-shirt/top", "Trouser", "class 2", "class 2", "class 5"}
	if !slices.Equal(got.Labels, want) {
		t.Errorf("triplet labels %q, want %q", got.Labels, want)
	}
	if !slices.Equal(got.Columns, []string{"ANCHOR", "POSITIVE", "NEGATIVE"}) {
		t.Errorf("columns %q", got.Columns)
	}
}

// The stage draws the heading and the labels: its pictures have the size of
// grids with that text, not of bare ones.
func TestPicturesHaveText(t *testing.T) {
	d := stagetest.Write(t, 60, 5)
	env, out := stagetest.Env(t, New(), d.Inputs("images.npy", "labels.npy", "classes.txt", "triplets.arrow"), map[string]any{"class": 1})
	if err := New().Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	blank := func(n, rows, cols int, text plots.GridText) image.Point {
		path := filepath.Join(t.TempDir(), "grid.png")
		imgs := make([][]uint8, n)
		for i := range imgs {
			imgs[i] = make([]uint8, stagetest.Side*stagetest.Side)
		}
		if err := plots.ImageGrid(path, imgs, rows, cols, stagetest.Side, text); err != nil {
			t.Fatal(err)
		}
		return pngtest.Decode(t, path).Bounds().Size()
	}
	labels := make([]string, 15)
	for i := range labels {
		labels[i] = "x"
	}
	for _, c := range []struct {
		file string
		want image.Point
	}{
		{"samples.png", blank(10, 1, 10, plots.GridText{Heading: "x"})},
		{"triplets.png", blank(15, 5, 3, plots.GridText{Columns: []string{"a", "b", "c"}, Labels: labels})},
	} {
		if got := pngtest.Decode(t, filepath.Join(out, c.file)).Bounds().Size(); got != c.want {
			t.Errorf("%s is %v, want %v: the size of the grid with its text", c.file, got, c.want)
		}
	}
}
