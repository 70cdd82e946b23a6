package pictures

import (
	"slices"
	"testing"
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
