package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/history"
)

// TestGateComparesLikeWithLike: max_drop looks back only at runs of the
// same pipeline file; its failure names the baseline run, and the record
// keeps it.
func TestGateComparesLikeWithLike(t *testing.T) {
	dir := setup(t, gateYAML)
	other := filepath.Join(dir, "other.yaml") // the same stages, another file, the same artifacts root
	if err := os.WriteFile(other, []byte(gateYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "out")
	if code, _, errOut := siamese(t, dir, "run", "--set", "score.auc=0.95"); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, errOut)
	}
	runs, _ := history.List(root)
	base := runs[0].ID
	// Another pipeline file's run is no baseline: 0.85 is not a drop from its 0.95.
	if code, _, errOut := siamese(t, dir, "-f", other, "run", "--set", "score.auc=0.85"); code != 0 {
		t.Fatalf("run -f other.yaml: exit %d, want 0 (no baseline of that file)\n%s", code, errOut)
	}
	runs, _ = history.List(root)
	if r := runs[1]; r.Baseline != "" || !strings.Contains(r.Gate[1].Message, "no earlier good run") {
		t.Errorf("other file's run compared with %q: %v", r.Baseline, r.Gate)
	}
	// The first file's next run compares with its own last good run, and says which.
	code, _, errOut := siamese(t, dir, "run", "--set", "score.auc=0.86")
	want := "fell 0.0900 below the last good run's 0.9500 (run " + base + "; allowed 0.05)"
	if code != 3 || !strings.Contains(errOut, want) {
		t.Errorf("run: exit %d, want 3 with %q\n%s", code, want, errOut)
	}
	runs, _ = history.List(root)
	if r := runs[2]; r.Baseline != base {
		t.Errorf("the record's gate baseline is %q, want %s", r.Baseline, base)
	}
	page, err := os.ReadFile(filepath.Join(root, "report.html"))
	if err != nil || !strings.Contains(string(page), "gate baseline: <code>"+base+"</code>") {
		t.Errorf("report.html does not name the gate baseline %s (%v)", base, err)
	}
}
