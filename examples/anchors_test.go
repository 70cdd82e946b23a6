package examples_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/scoring"
)

// writeAnchors writes the fake tree's classes.txt, and anchors.npy and
// thresholds.json from the test anchors' embeddings, as evaluate does.
func writeAnchors(t *testing.T, dir string, emb []float32, class []int64) {
	t.Helper()
	names := make([]string, classes)
	for c := range names {
		names[c] = fmt.Sprintf("class %d", c)
	}
	must(t, os.WriteFile(filepath.Join(dir, "ingest/classes.txt"), []byte(strings.Join(names, "\n")+"\n"), 0o644))
	set := scoring.Set{Emb: emb, Labels: make([]int, len(class))}
	for i, c := range class {
		set.Labels[i] = int(c)
	}
	anchors, err := scoring.Anchors(set, set, embDim, classes)
	must(t, err)
	must(t, artifacts.WriteNPY(filepath.Join(dir, "evaluate/anchors.npy"), anchors, classes, embDim))
	th, err := scoring.Choose(anchors, embDim, names, set, set, 0.05)
	must(t, err)
	must(t, th.Write(filepath.Join(dir, "evaluate/thresholds.json")))
}

// TestLoadArtifactsAnchors: the script loads the anchors and thresholds,
// scores images with them, and --check fails when they do not fit.
func TestLoadArtifactsAnchors(t *testing.T) {
	needPython(t)
	tr := buildTree(t)
	code, out, errOut := run(t, python, "load_artifacts.py", "--artifacts", tr.dir, "--check")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"anchors (10, 16) float32; target false-positive rate 0.05", "class 9", "threshold",
		"scored 300 images of ingest/images.npy", "anchors and thresholds fit the 10 classes"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	must(t, artifacts.WriteNPY(filepath.Join(tr.dir, "evaluate/anchors.npy"), make([]float32, 9*embDim), 9, embDim))
	code, out, errOut = run(t, python, "load_artifacts.py", "--artifacts", tr.dir, "--check")
	if code != 1 || !strings.Contains(errOut, "anchors.npy: float32 (9, 16), want float32 (10, 16)") {
		t.Errorf("anchors of 9 classes: exit %d\n%s\n%s", code, out, errOut)
	}
}
