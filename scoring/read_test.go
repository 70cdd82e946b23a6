package scoring

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
)

// An .npy of images is read in batches of BatchSize: every image comes
// once, in order, also across a batch's edge; a shape that is not
// (N, size, size) in any of its axes is refused.
func TestReadNPYBatchesAndShapes(t *testing.T) {
	dir := t.TempDir()
	n := BatchSize + 5
	px := make([]uint8, n*4)
	for i := range n {
		for k := range 4 {
			px[i*4+k] = uint8(i % 251)
		}
	}
	big := filepath.Join(dir, "big.npy")
	must(t, artifacts.WriteNPY(big, px, n, 2, 2))
	var names []string
	var got []uint8
	must(t, Read(context.Background(), []string{big}, pre2, func(nm []string, p []uint8) error {
		names, got = append(names, nm...), append(got, p...)
		return nil
	}))
	if len(names) != n || names[n-1] != big+"[4100]" || string(got) != string(px) {
		t.Fatalf("%d images (last %q), want %d with their pixels", len(names), names[len(names)-1], n)
	}

	for _, shape := range [][]int{{1, 3, 2}, {1, 2, 3}, {1, 4}} {
		p := filepath.Join(dir, "bad.npy")
		size := 1
		for _, d := range shape {
			size *= d
		}
		must(t, artifacts.WriteNPY(p, make([]uint8, size), shape...))
		err := Read(context.Background(), []string{p}, pre2, func([]string, []uint8) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "want uint8 images (N, 2, 2)") {
			t.Errorf("shape %v: %v, want it refused", shape, err)
		}
	}
}
