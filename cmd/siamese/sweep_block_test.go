package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/sweep"
)

// TestSweepBlockAndFailures uses the test stages: a pipeline file's sweep
// block is the grid when no --set sweeps, --set replaces a param of it,
// a failing variant fails alone (exit 1, the others done), and bad
// arguments exit 2.
func TestSweepBlockAndFailures(t *testing.T) {
	dir := setup(t, testYAML+"sweep:\n  second.text: [a, b]\n  second.fail: [false]\n")
	code, out, errOut := siamese(t, dir, "sweep", "blk")
	if code != 0 || !strings.Contains(out, "2 variants, 2 done") {
		t.Fatalf("sweep of the block: exit %d\n%s%s", code, out, errOut)
	}
	home := filepath.Join(dir, "out")
	st, err := sweep.ReadState(sweep.Path(home, "blk"))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"a", "b"} {
		v := st.Variants[i]
		data, err := os.ReadFile(filepath.Join(sweep.VariantRoot(sweep.Path(home, "blk"), v.ID), "second", "b.txt"))
		if err != nil || string(data) != want {
			t.Errorf("variant %d wrote %q (%v), want %q", i, data, err, want)
		}
	}
	// second.fail=true,false replaces the block's second.fail: the
	// variants that fail fail alone.
	code, out, errOut = siamese(t, dir, "sweep", "blk2", "--set", "second.fail=true,false", "--jobs", "2")
	if code != 1 || !strings.Contains(out, "4 variants, 2 done") || !strings.Contains(errOut, "2 variant(s) failed") || !strings.Contains(errOut, "asked to fail") {
		t.Errorf("a sweep with failing variants: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := siamese(t, dir, "runs"); code != 0 || strings.Count(out, "blk2/") != 4 || strings.Count(out, "blk/") != 2 {
		t.Errorf("runs:\n%s", out)
	}
	for _, cmd := range []string{"sweep", "sweep show", "sweep promote"} {
		if code, out, _ := siamese(t, dir, append(strings.Fields(cmd), "--help")...); code != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("siamese %s --help: exit %d\n%s", cmd, code, out)
		}
	}
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"sweep", "x", "--set", "second.text=a,,b"}, "empty value"},
		{[]string{"sweep", "x", "--set", "second.nope=1,2"}, "no param"},
		{[]string{"sweep", "../x", "--set", "second.text=a"}, "sweep name"},
		{[]string{"sweep", "x", "--set", "second.text=a", "--jobs", "0"}, "--jobs"},
		{[]string{"sweep", "show", "nosuch"}, "no sweep \"nosuch\""},
		{[]string{"sweep", "show", "blk", "--format", "xml"}, "--format"},
		{[]string{"sweep", "show", "blk", "--by", "val_loss", "--by-test-metric", "roc_auc"}, "not both"},
		{[]string{"sweep", "promote", "nosuch"}, "no sweep"},
		{[]string{"sweep"}, "takes a name"},
	} {
		if code, _, errOut := siamese(t, dir, c.args...); code != 2 || !strings.Contains(errOut, c.err) {
			t.Errorf("siamese %v: exit %d, want 2 with %q: %s", c.args, code, c.err, errOut)
		}
	}
}
