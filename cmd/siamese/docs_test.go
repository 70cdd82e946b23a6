package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/siamese-pipeline/siamese/internal/docs"
	"github.com/siamese-pipeline/siamese/internal/pngtest"
	"github.com/siamese-pipeline/siamese/internal/testenv"
	"github.com/siamese-pipeline/siamese/plots"
	"github.com/siamese-pipeline/siamese/stages"
)

// The stages, the small run and the scoring that README.md and
// docs/scoring.md quote print what `make docs` recorded: run here, on the real Fashion-MNIST, as
// the pages write them (with a temporary directory for /tmp/small), their
// output is docs/generated/'s, byte for byte. With internal/docs's
// TestPagesMatchRecorded (the pages quote the recorded files), a number
// that goes stale fails here.
func TestDocsSmallRun(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a small model on Fashion-MNIST")
	}
	const fashion = "/usr/share/datasets/fashion-mnist"
	if _, err := os.Stat(fashion); err != nil {
		testenv.Missing(t, fmt.Sprintf("Fashion-MNIST not installed at %s (Debian's dataset-fashion-mnist): %v", fashion, err))
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	recorded := func(file string) string {
		data, err := os.ReadFile(filepath.Join(repo, docs.GeneratedDir, file))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	yaml, err := os.ReadFile(filepath.Join(repo, "pipeline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pipeline.yaml"), yaml, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	small := filepath.Join(dir, "small")
	siamese := func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		code := newApp(&out, &errOut, stages.Registry()).run(context.Background(), docs.Swap(args, "/tmp/small", small))
		return out.String(), errOut.String(), code
	}
	out, errOut, code := siamese("dag")
	if code != 0 {
		t.Fatalf("siamese dag: exit %d\n%s", code, errOut)
	}
	got, err := docs.Dag(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := recorded(docs.DagFile); got != want {
		t.Errorf("siamese dag prints\n%s\nbut the README quotes\n%s(run `make docs`)", got, want)
	}
	got, err = docs.SmallRun(siamese)
	if err != nil {
		t.Fatal(err)
	}
	if want := recorded(docs.SmallRunFile); got != want {
		t.Errorf("the small run prints\n%s\nbut the pages quote\n%s(run `make docs`)", got, want)
	}
	// The plots the README describes carry their marks: the best epoch on
	// loss.png, the decision threshold on similarity_hist.png.
	for _, png := range []string{"train/loss.png", "evaluate/similarity_hist.png"} {
		if n := pngtest.Count(pngtest.Decode(t, filepath.Join(small, png)), plots.MarkColor); n < 200 {
			t.Errorf("%s: %d pixels of the marks' colour, want a line across the plot", png, n)
		}
	}
	got, err = docs.Score(dir, small, siamese)
	if err != nil {
		t.Fatal(err)
	}
	if want := recorded(docs.ScoreFile); got != want {
		t.Errorf("siamese score prints\n%s\nbut the pages quote\n%s(run `make docs`)", got, want)
	}
}
