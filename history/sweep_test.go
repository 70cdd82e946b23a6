package history

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/artifacts"
)

// TestRunKeepsItsSweep: a run's sweep and variant survive its record, and
// runs.arrow has a sweep column ("" for a run of its own).
func TestRunKeepsItsSweep(t *testing.T) {
	root := t.TempDir()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, sw := range []string{"", "lr"} {
		r := &Run{ID: NewID(start.Add(time.Duration(i) * time.Second)), Start: start, End: start, Outcome: OK, Sweep: sw}
		if sw != "" {
			r.Variant = "0123456789"
		}
		if err := Append(root, r); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := List(root)
	if err != nil || len(runs) != 2 || runs[1].Sweep != "lr" || runs[1].Variant != "0123456789" || runs[0].Sweep != "" {
		t.Fatalf("%+v %v", runs, err)
	}
	tb, err := artifacts.ReadArrow(filepath.Join(root, Dir, TableFile))
	if err != nil {
		t.Fatal(err)
	}
	col, err := tb.String("sweep")
	if err != nil || len(col) != 2 || col[0] != "" || col[1] != "lr" {
		t.Errorf("sweep column %q, %v", col, err)
	}
}
