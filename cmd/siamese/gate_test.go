package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/history"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/runner"
)

// scoreStage writes metrics.json with its auc param as the metric.
type scoreStage struct{}

func (scoreStage) Spec() pipeline.Spec {
	return pipeline.Spec{Version: "1", Inputs: []string{"b.txt"}, Outputs: []string{"metrics.json"}, Metrics: "metrics.json",
		Params: []pipeline.Param{{Name: "auc", Default: 0.9}}}
}

func (scoreStage) Run(ctx context.Context, env *runner.Env) error {
	return os.WriteFile(env.Out("metrics.json"), fmt.Appendf(nil, `{"auc": %g, "per_class": []}`, env.Params.Float("auc")), 0o644)
}

func init() { testRegistry["score"] = scoreStage{} }

const gateYAML = testYAML + `  score:
    deps: [second]
    outs: [score/metrics.json]
gate:
  - metric: auc
    min: 0.8
  - metric: auc
    max_drop: 0.05
`

func TestGateAndHistory(t *testing.T) {
	dir := setup(t, gateYAML)
	root := filepath.Join(dir, "out")
	steps := []struct {
		args    []string
		code    int
		outcome string
		stderr  string
	}{
		{[]string{"run"}, 0, history.OK, ""},
		{[]string{"run", "--set", "score.auc=0.7"}, 3, history.GateFailed, "auc = 0.7000 is below the minimum 0.8"},
		{[]string{"run", "--set", "score.auc=0.88"}, 0, history.OK, ""},
		{[]string{"run", "--set", "score.auc=0.82"}, 3, history.GateFailed, "fell 0.0600 below the last good run's 0.8800"},
		{[]string{"run", "--set", "score.auc=0.5", "--no-gate"}, 0, history.OK, ""},
		// An ungated run is no baseline: 0.88 still is.
		{[]string{"run", "--set", "score.auc=0.82"}, 3, history.GateFailed, "below the last good run's 0.8800"},
		// --only first does not evaluate: nothing to gate, and no baseline.
		{[]string{"run", "--only", "first"}, 0, history.OK, "quality gate not checked"},
		{[]string{"run", "--set", "second.fail=true"}, 1, history.Failed, "asked to fail"},
	}
	for i, s := range steps {
		code, _, errOut := siamese(t, dir, s.args...)
		if code != s.code || !strings.Contains(errOut, s.stderr) {
			t.Fatalf("siamese %v: exit %d, want %d with %q:\n%s", s.args, code, s.code, s.stderr, errOut)
		}
		runs, err := history.List(root)
		if err != nil || len(runs) != i+1 {
			t.Fatalf("after %v: %d runs, %v", s.args, len(runs), err)
		}
		if last := runs[i]; last.Outcome != s.outcome {
			t.Errorf("siamese %v: recorded %q, want %q", s.args, last.Outcome, s.outcome)
		}
	}
	// A failed gate keeps the artifacts for inspection.
	if _, err := os.Stat(filepath.Join(root, "score/metrics.json")); err != nil {
		t.Error(err)
	}
	runs, _ := history.List(root)
	if onlyFirst := runs[6]; len(onlyFirst.Gate) != 0 || len(onlyFirst.Metrics) != 0 {
		t.Errorf("a run that did not evaluate has metrics %v and gate %v", onlyFirst.Metrics, onlyFirst.Gate)
	}
	first, failed := runs[0], runs[7]
	if first.Stages[0].Outcome != "ran" || runs[2].Stages[0].Outcome != "cached" || failed.Stages[1].Outcome != "failed" ||
		!strings.Contains(failed.Stages[1].Error, "asked to fail") {
		t.Errorf("stage outcomes: %+v / %+v", first.Stages, failed.Stages)
	}
	for _, r := range runs {
		if _, err := os.Stat(filepath.Join(root, history.Dir, r.ID, "report.html")); err != nil {
			t.Errorf("run %s has no report: %v", r.ID, err)
		}
	}
	code, out, _ := siamese(t, dir, "runs")
	if code != 0 || strings.Count(out, "gate failed") != 3 || !strings.Contains(out, "failed") {
		t.Errorf("runs: exit %d\n%s", code, out)
	}
	code, out, _ = siamese(t, dir, "runs", "diff", runs[0].ID, "latest~5")
	if code != 0 || !strings.Contains(out, "score.auc") || !strings.Contains(out, "0.8800 (-0.0200)") {
		t.Errorf("runs diff: exit %d\n%s", code, out)
	}
	if code, _, _ := siamese(t, dir, "runs", "diff", "nope", "latest"); code != 2 {
		t.Errorf("runs diff of an unknown run: exit %d", code)
	}
}

func TestReportShowsOnlyCurrentPictures(t *testing.T) {
	file := filepath.Join(setup(t, testYAML), "pipeline.yaml")
	p, err := pipeline.Load(file, testRegistry, "")
	if err != nil {
		t.Fatal(err)
	}
	p.Stage("first").Outs = append(p.Stage("first").Outs, pipeline.Out{Path: "first/plot.png"})
	p.Stage("second").Outs = append(p.Stage("second").Outs, pipeline.Out{Path: "second/plot.png"})
	r := &runner.Runner{Pipeline: p}
	rep := &runner.Report{Results: []runner.Result{{Stage: "first", Outcome: runner.Cached}, {Stage: "second", Outcome: runner.Skipped}}}
	got := images(r, rep)
	if len(got) != 1 || got[0].Title != "first: plot.png" {
		t.Errorf("images %+v", got)
	}
}
