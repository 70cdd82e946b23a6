package artifacts

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidators(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "a.npy")
	if err := WriteNPY(name, []float64{1, 2}, 2); err != nil {
		t.Fatal(err)
	}
	f, err := OpenNPY(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases := []struct {
		name string
		err  error
		want string // "" for no error
	}{
		{"finite", CheckFinite("x", []float32{0, 1, -3}, 0), ""},
		{"nan", CheckFinite("x", []float64{0, 1, math.NaN()}, 2), "x: row 1, element 0 is NaN: the values must be finite"},
		{"inf", CheckFinite("x", []float32{float32(math.Inf(-1))}, 0), "x: element 0 is -Inf"},
		{"labels ok", CheckLabels("l", []uint8{0, 9}, 10), ""},
		{"label out", CheckLabels("l", []uint8{0, 10}, 10), "l: label 10 of row 1 is not one of the 10 classes (0 to 9)"},
		{"shape ok", CheckShape("s", []int{5, 3, 28, 28}, "(N, 3, 28, 28)", -1, 3, 28, 28), ""},
		{"shape rank", CheckShape("s", []int{5, 3}, "(N, 3, 28, 28)", -1, 3, 28, 28), "s: shape (5, 3), want (N, 3, 28, 28)"},
		{"shape axis", CheckShape("s", []int{5, 2, 28, 28}, "(N, 3, 28, 28)", -1, 3, 28, 28), "shape (5, 2, 28, 28)"},
		{"dtype ok", CheckDType(f, "float32", "float64"), ""},
		{"dtype", CheckDType(f, "uint8"), "dtype float64, want uint8"},
	}
	for _, c := range cases {
		if c.want == "" && c.err != nil || c.want != "" && (c.err == nil || !strings.Contains(c.err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.name, c.err, c.want)
		}
	}
	_ = os.Remove(name)
}
