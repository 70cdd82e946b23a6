package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/history"
	"github.com/siamese-pipeline/siamese/models"
	"github.com/siamese-pipeline/siamese/stages"
)

// TestScoreNeverMixes: score names the model it used on stderr; after a
// train rerun alone, --model latest refuses to pair the new weights with
// the old anchors and thresholds (and --allow-mixed scores with a
// warning); models shows each model's dataset and classes.
func TestScoreNeverMixes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the network")
	}
	tmp := t.TempDir()
	src, root := filepath.Join(tmp, "fashion"), filepath.Join(tmp, "out")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	writeIDX(t, src)
	file := servingYAML(t, tmp, "pass.yaml", 0.5)
	siamese := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := newApp(&out, &errOut, stages.Registry()).run(context.Background(), append([]string{"-f", file, "--artifacts", root}, args...))
		return code, out.String(), errOut.String()
	}
	sets := []string{"--set", "ingest.source=" + src, "--set", "triplets.per_class=20", "--set", "train.epochs=2",
		"--set", "evaluate.queries=1000", "--set", "evaluate.pca_points=300"}
	if code, out, errOut := siamese(append([]string{"run"}, sets...)...); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	runs, err := history.List(root)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs: %v %v", runs, err)
	}
	first := runs[0]
	if first.Dataset == nil || first.Dataset.Source != src || len(first.Dataset.Classes) != 10 {
		t.Errorf("the run recorded dataset %+v, want source %s and 10 classes", first.Dataset, src)
	}
	npy := filepath.Join(root, "ingest/images.npy")
	for _, ref := range []string{"current", "latest"} {
		code, _, errOut := siamese("score", "--model", ref, npy)
		want := "scoring with model " + first.ID + " (--model " + ref + "), dataset " + src + ", classes 10 ("
		if code != 0 || !strings.Contains(errOut, want) {
			t.Errorf("score --model %s: exit %d, stderr lacks %q:\n%s", ref, code, want, errOut)
		}
	}
	code, out, _ := siamese("models")
	if code != 0 || !strings.Contains(out, src) || !strings.Contains(out, "10 (") || !strings.Contains(out, "DATASET") {
		t.Errorf("models does not show the dataset and classes: exit %d\n%s", code, out)
	}

	// train alone, with another seed: evaluate's anchors are the old ones.
	if code, out, errOut := siamese(append([]string{"run", "--only", "train", "--set", "train.seed=7"}, sets...)...); code != 0 {
		t.Fatalf("run --only train: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := siamese("score", "--model", "latest", npy)
	if code != 1 || out != "" || !strings.Contains(errOut, "--model latest would mix two models: evaluate (") ||
		!strings.Contains(errOut, "read train/model, which train has rewritten since") {
		t.Errorf("score --model latest after train alone: exit %d, %d bytes out\n%s", code, len(out), errOut)
	}
	code, out, errOut = siamese("score", "--allow-mixed", "--model", "latest", npy)
	if code != 0 || out == "" || !strings.Contains(errOut, "scoring with a mixed model (--allow-mixed)") {
		t.Errorf("score --allow-mixed: exit %d\n%s", code, errOut)
	}
	// The promoted model is whole: current still scores, naming its run.
	if code, _, errOut := siamese("score", npy); code != 0 || !strings.Contains(errOut, "scoring with model "+first.ID) {
		t.Errorf("score (current) after train alone: exit %d\n%s", code, errOut)
	}
	// A full run brings train and evaluate together again.
	if code, out, errOut := siamese(append([]string{"run", "--set", "train.seed=7"}, sets...)...); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := siamese("score", "--model", "latest", npy); code != 0 {
		t.Errorf("score --model latest after a full run: exit %d\n%s", code, errOut)
	}
	cur, err := models.CurrentModel(root)
	if err != nil || cur.Dataset != src {
		t.Errorf("current model's dataset %q (%v), want %s", cur.Dataset, err, src)
	}
}
