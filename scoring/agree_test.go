package scoring

import (
	"os"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
)

// A model's anchors, thresholds and class names come from three files;
// Open refuses them unless each has one entry per class, whichever of the
// three disagrees.
func TestOpenFilesMustAgree(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(f Files)
		want   string
	}{
		{"three thresholds", func(f Files) {
			must(t, (&Thresholds{Classes: []string{"top", "bottom", "left"}, Thresholds: []float64{0.1, 0.2, 0.3}}).Write(f.Thresholds))
		}, "3 thresholds in thresholds.json"},
		{"one threshold", func(f Files) {
			must(t, (&Thresholds{Classes: []string{"top"}, Thresholds: []float64{0.1}}).Write(f.Thresholds))
		}, "1 thresholds in thresholds.json"},
		{"three anchors", func(f Files) {
			must(t, artifacts.WriteNPY(f.Anchors, []float32{1, 0, 0, 1, 1, 1}, 3, 2))
		}, "3 anchors in anchors.npy"},
		{"one class", func(f Files) { must(t, os.WriteFile(f.Classes, []byte("top\n"), 0o644)) }, "1 classes in classes.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := writeModel(t, "linear")
			tc.break_(f)
			if _, err := Open(f, pre2); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "must agree") {
				t.Errorf("Open: %v, want %q", err, tc.want)
			}
		})
	}
}
