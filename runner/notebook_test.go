package runner

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestNotebookArraysOff: a stage of notebook arrays (here side) runs with
// the switch on, is left out with it off, saying why, and cannot be run
// alone then; the other stages do not rerun for the switch.
func TestNotebookArraysOff(t *testing.T) {
	f := newFixture(t)
	f.stages["side"].spec.NotebookArrays = true
	runWith := func(on bool, opt Options) (string, error) {
		r := f.runner()
		r.Pipeline.NotebookArrays = on
		rep, err := r.Run(context.Background(), opt)
		var parts []string
		for _, res := range rep.Results {
			parts = append(parts, res.Stage+"="+string(res.Outcome)+"("+res.Reason+")")
		}
		return strings.Join(parts, " "), err
	}
	got, err := runWith(false, Options{})
	if err != nil || got != "gen=ran(never run) double=ran(never run) side=not selected(off: notebook_arrays is false) sum=ran(never run)" {
		t.Fatalf("switch off: %s, %v", got, err)
	}
	if _, err := os.Stat(f.path("side/side.txt")); err == nil {
		t.Error("side.txt written with the switch off")
	}
	if got, err := runWith(true, Options{}); err != nil || got != "gen=cached() double=cached() side=ran(never run) sum=cached()" {
		t.Fatalf("switch on: %s, %v", got, err)
	}
	if got, err := runWith(false, Options{Force: true}); err != nil || !strings.Contains(got, "side=not selected(off") {
		t.Fatalf("forced, switch off: %s, %v", got, err)
	}
	if _, err := runWith(false, Options{Only: "side"}); err == nil || !strings.Contains(err.Error(), "notebook_arrays is false") {
		t.Fatalf("--only side with the switch off: %v", err)
	}
	if got, err := runWith(false, Options{From: "gen"}); err != nil || !strings.Contains(got, "side=not selected(off") || !strings.Contains(got, "sum=ran") {
		t.Fatalf("--from gen with the switch off: %s, %v", got, err)
	}
}
