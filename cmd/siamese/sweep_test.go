package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/siamese-pipeline/siamese/history"
	"github.com/siamese-pipeline/siamese/stages"
	"github.com/siamese-pipeline/siamese/sweep"
)

// sweepSets are the small sizes of the sweep tests, as --set flags.
func sweepSets(src string) []string {
	return []string{"--set", "ingest.source=" + src, "--set", "triplets.per_class=30", "--set", "train.epochs=1",
		"--set", "train.hidden=[32, 16]", "--set", "evaluate.queries=200", "--set", "evaluate.pca_points=50"}
}

// sweepGrid is 3 learning rates × 3 seeds.
var sweepGrid = []string{"--set", "train.lr=1e-3,1.25e-3,1.5e-3", "--set", "train.seed=1,2,3"}

// inProcess runs the program in this process over the repository's
// pipeline with the artifacts root root.
func inProcess(t *testing.T, root string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	a := newApp(&out, &errOut, stages.Registry())
	code := a.run(context.Background(), append([]string{"-f", repoFile("pipeline.yaml"), "--artifacts", root}, args...))
	return code, out.String(), errOut.String()
}

// stageRuns counts, over every variant root of a sweep, the stage
// records of stages that ran (not shared), by stage.
func stageRuns(t *testing.T, dir string) map[string]int {
	t.Helper()
	ran, _, err := sweep.StageRuns(dir)
	if err != nil || len(ran) == 0 {
		t.Fatalf("no stage records under %s (%v)", dir, err)
	}
	return ran
}

// finishedTable is a sweep's table as JSON, without the run ids (which
// differ from one sweep to the next).
func finishedTable(t *testing.T, home, name string) *sweep.Table {
	t.Helper()
	st, err := sweep.ReadState(sweep.Path(home, name))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := sweep.NewTable(st, "val_loss", "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range tb.Variants {
		tb.Variants[i].Run = ""
	}
	return tb
}

// TestSweepSharesUpstreamStages runs 3 learning rates × 3 seeds, small:
// ingest to split run once (counted from the stage records), train and
// evaluate once per variant, each variant's metrics.json is byte for
// byte a standalone run's with the same --set values, the runs name
// their sweep, and show, csv and json agree.
func TestSweepSharesUpstreamStages(t *testing.T) {
	if testing.Short() {
		t.Skip("runs nine small pipelines and nine more to compare")
	}
	src := learnableSource(t)
	home, args := sweepOnce(t)
	dir := sweep.Path(home, "lr")
	runs := stageRuns(t, dir)
	want := map[string]int{"ingest": 1, "triplets": 1, "split": 1, "pictures": 1, "notebook": 1, "train": 9, "evaluate": 9}
	if !reflect.DeepEqual(runs, want) {
		t.Errorf("stages run, by stage: %v, want %v", runs, want)
	}
	st, err := sweep.ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Variants) != 9 {
		t.Fatalf("%d variants", len(st.Variants))
	}
	for _, v := range st.Variants {
		if _, ok := v.Metrics["val_loss"]; v.Status != sweep.Done || !ok || v.Metrics["roc_auc"] == 0 {
			t.Errorf("variant %s: %s, metrics %v", v.ID, v.Status, v.Metrics)
		}
		// A standalone run with the same --set values.
		alone := filepath.Join(t.TempDir(), "alone")
		runArgs := append([]string{"run", "--no-gate"}, sweepSets(src)...)
		for _, s := range v.Sets {
			runArgs = append(runArgs, "--set", s)
		}
		if code, out, errOut := inProcess(t, alone, runArgs...); code != 0 {
			t.Fatalf("standalone run: exit %d\n%s%s", code, out, errOut)
		}
		a, err := os.ReadFile(filepath.Join(alone, "evaluate", "metrics.json"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(sweep.VariantRoot(dir, v.ID), "evaluate", "metrics.json"))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("variant %s (%v): metrics.json differs from a standalone run's (%v)", v.ID, v.Sets, err)
		}
		rec, err := history.Find(home, v.Run)
		if err != nil || rec.Sweep != "lr" || rec.Variant != v.ID || len(rec.Gate) != 0 {
			t.Errorf("variant %s: run %+v, %v", v.ID, rec, err)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "models", "current")); err == nil {
		t.Error("the sweep promoted a model")
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !strings.Contains(string(page), "data:image/png;base64,") || strings.Count(string(page), `class="best"`) != 1 {
		t.Errorf("the sweep's page lacks its plot or its best group (%v)", err)
	}

	// runs shows the sweep of each run.
	code, out, _ := inProcess(t, home, "runs")
	if code != 0 || strings.Count(out, "lr/") != 9 {
		t.Errorf("runs: exit %d, want nine runs of sweep lr:\n%s", code, out)
	}
	// show: csv and json hold the same table; a test metric needs its flag.
	code, js, errOut := inProcess(t, home, "sweep", "show", "lr", "--format", "json")
	if code != 0 {
		t.Fatalf("show json: %d %s", code, errOut)
	}
	code, cs, errOut := inProcess(t, home, "sweep", "show", "lr", "--format", "csv")
	if code != 0 {
		t.Fatalf("show csv: %d %s", code, errOut)
	}
	fromJSON, err := sweep.ReadJSON(strings.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	fromCSV, err := sweep.ReadCSV(strings.NewReader(cs))
	if err != nil {
		t.Fatal(err)
	}
	fromCSV.Name, fromCSV.By, fromCSV.Goal = fromJSON.Name, fromJSON.By, fromJSON.Goal
	if !reflect.DeepEqual(fromCSV, fromJSON) || len(fromJSON.Groups) != 3 || fromJSON.Groups[0].N != 3 || fromJSON.BestGroup() == nil {
		t.Errorf("csv and json differ, or the groups are wrong:\n%+v\n%+v", fromCSV, fromJSON)
	}
	if code, _, errOut := inProcess(t, home, "sweep", "show", "lr", "--by", "roc_auc"); code != 2 || !strings.Contains(errOut, "--by-test-metric") {
		t.Errorf("--by a test metric: exit %d %s", code, errOut)
	}
	code, out, _ = inProcess(t, home, "sweep", "show", "lr", "--by-test-metric", "roc_auc")
	if code != 0 || !strings.Contains(out, "best group by roc_auc (higher is better)") {
		t.Errorf("--by-test-metric: exit %d\n%s", code, out)
	}

	// Again: nothing runs, the table is the same.
	before := finishedTable(t, home, "lr")
	code, out, errOut = inProcess(t, home, args...)
	if code != 0 || strings.Contains(out, "variant ") {
		t.Errorf("the sweep again: exit %d, ran variants:\n%s%s", code, out, errOut)
	}
	if after := finishedTable(t, home, "lr"); !reflect.DeepEqual(before, after) {
		t.Errorf("the table changed")
	}
}

// sweepArgs are the arguments of the 3 × 3 sweep "lr", small.
func sweepArgs(t *testing.T) []string {
	return append(append([]string{"sweep", "lr", "--jobs", "2"}, sweepSets(learnableSource(t))...), sweepGrid...)
}

var uninterrupted struct {
	once sync.Once
	home string
}

// sweepOnce runs the 3 × 3 sweep once per test binary, uninterrupted, and
// returns its home and its arguments.
func sweepOnce(t *testing.T) (string, []string) {
	t.Helper()
	args := sweepArgs(t)
	uninterrupted.once.Do(func() {
		home, err := os.MkdirTemp("", "siamese-sweep-")
		if err != nil {
			t.Fatal(err)
		}
		code, out, errOut := inProcess(t, home, args...)
		if code != 0 {
			t.Fatalf("sweep: exit %d\n%s%s", code, out, errOut)
		}
		t.Logf("siamese %s:\n%s", strings.Join(args, " "), out)
		uninterrupted.home = home
	})
	if uninterrupted.home == "" {
		t.Fatal("the uninterrupted sweep failed")
	}
	return uninterrupted.home, args
}

var learnable struct {
	once sync.Once
	dir  string
}

// learnableSource writes, once per test binary, a synthetic dataset that
// a model must learn (so that the variants' metrics differ).
func learnableSource(t *testing.T) string {
	t.Helper()
	learnable.once.Do(func() {
		dir, err := os.MkdirTemp("", "siamese-learnable-")
		if err != nil {
			t.Fatal(err)
		}
		writeLearnableIDX(t, dir)
		learnable.dir = dir
	})
	if learnable.dir == "" {
		t.Fatal("no learnable dataset")
	}
	return learnable.dir
}
