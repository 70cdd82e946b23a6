package main

import (
	"regexp"
	"testing"
)

// runs diff says "not run" for the metrics of a run that did not run the
// stage that reports them, and writes values to 4 decimals.
func TestRunsDiffNotRun(t *testing.T) {
	dir := setup(t, gateYAML)
	for _, args := range [][]string{{"run", "--set", "score.auc=0.9123456"}, {"run", "--only", "first", "--set", "first.text=hi"}} {
		if code, _, errOut := siamese(t, dir, args...); code != 0 {
			t.Fatalf("siamese %v: exit %d\n%s", args, code, errOut)
		}
	}
	code, out, _ := siamese(t, dir, "runs", "diff", "latest~1", "latest")
	for _, want := range []string{`(?m)^metric +auc +0\.9123 +not run$`, `(?m)^param +first\.text +"hello" +"hi"$`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("runs diff: exit %d, no line %s:\n%s", code, want, out)
		}
	}
	code, out, _ = siamese(t, dir, "runs", "diff", "latest", "latest~1")
	if !regexp.MustCompile(`(?m)^metric +auc +not run +0\.9123$`).MatchString(out) {
		t.Errorf("runs diff the other way: exit %d\n%s", code, out)
	}
}
