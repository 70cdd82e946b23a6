package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/history"
	"github.com/siamese-pipeline/siamese/models"
	"github.com/siamese-pipeline/siamese/stages"
	"github.com/siamese-pipeline/siamese/sweep"
)

// TestSweepPromote: a sweep promotes nothing; sweep promote checks the
// gate on the best variant by val_loss and promotes it as a run would;
// a variant that fails the gate is not promoted (exit 3).
func TestSweepPromote(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a sweep")
	}
	dir := t.TempDir()
	home := filepath.Join(dir, "out")
	// The same pipeline with a gate that a one-epoch model passes.
	lenientFile := servingYAML(t, dir, "lenient.yaml", 0)
	siamese := func(file string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		a := newApp(&out, &errOut, stages.Registry())
		code := a.run(context.Background(), append([]string{"-f", file, "--artifacts", home}, args...))
		return code, out.String(), errOut.String()
	}
	args := append(append([]string{"sweep", "p"}, sweepSets(learnableSource(t))...), "--set", "train.lr=1e-3,1.5e-3")
	if code, out, errOut := siamese(lenientFile, args...); code != 0 {
		t.Fatalf("sweep: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := models.CurrentModel(home); err == nil {
		t.Fatal("the sweep promoted a model")
	}
	st, err := sweep.ReadState(sweep.Path(home, "p"))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := sweep.NewTable(st, "val_loss", "")
	if err != nil {
		t.Fatal(err)
	}
	best := tb.BestVariant()
	var other string
	for _, v := range st.Variants {
		if v.ID != best.ID {
			other = v.ID
		}
	}

	for _, c := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"--variant", "nope"}, 2, "has no variant"},
		{[]string{"--by", "roc_auc"}, 2, "--by-test-metric"},
		{[]string{"--variant", other}, 3, "quality gate failed"}, // the strict gate of pipeline.yaml
	} {
		code, out, errOut := siamese(repoFile("pipeline.yaml"), append([]string{"sweep", "promote", "p"}, c.args...)...)
		if code != c.code || !strings.Contains(errOut, c.err) {
			t.Errorf("promote %v: exit %d, want %d with %q\n%s%s", c.args, code, c.code, c.err, out, errOut)
		}
	}
	if _, err := models.CurrentModel(home); err == nil {
		t.Fatal("a variant that failed the gate was promoted")
	}
	code, out, errOut := siamese(lenientFile, "sweep", "promote", "p")
	if code != 0 || !strings.Contains(out, "variant "+best.ID) || strings.Contains(out, " ran ") {
		t.Fatalf("promote: exit %d\n%s%s", code, out, errOut)
	}
	cur, err := models.CurrentModel(home)
	if err != nil {
		t.Fatal(err)
	}
	run, err := history.Find(home, cur.Run)
	if err != nil || run.Sweep != "p" || run.Variant != best.ID || len(run.Gate) == 0 || run.Outcome != history.OK {
		t.Errorf("the promoted model's run: %+v, %v", run, err)
	}
}
