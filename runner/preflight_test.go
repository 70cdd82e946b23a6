package runner

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/pipeline"
)

// A stage's preflight stops a run, a dry run and a status before any
// stage runs; a stage that is not to run is not asked.
func TestPreflight(t *testing.T) {
	f := newFixture(t)
	asked := map[string]int{}
	fail := true
	check := func(name string) func(pipeline.Params) error {
		return func(pipeline.Params) error {
			asked[name]++
			if fail && name == "double" {
				return errors.New("its folder is gone")
			}
			return nil
		}
	}
	for name, s := range f.stages {
		s.spec.Preflight = check(name)
	}
	for _, opt := range []Options{{DryRun: true}, {}} {
		_, err := f.run(opt)
		var perr *pipeline.Error
		if !errors.As(err, &perr) || !strings.Contains(err.Error(), "stage double: its folder is gone") {
			t.Fatalf("dry run %v: %v, want the preflight's error as a pipeline error", opt.DryRun, err)
		}
		for name, s := range f.stages {
			if n := s.runs.Load(); n != 0 {
				t.Errorf("stage %s ran %d times though a preflight failed", name, n)
			}
		}
		if _, err := os.Stat(f.root + "/.siamese/stages"); err == nil {
			t.Errorf("records written though a preflight failed")
		}
	}
	fail = false
	if _, err := f.run(Options{}); err != nil {
		t.Fatal(err)
	}
	clear(asked)
	// --only sum: the stages upstream do not run, and are not asked.
	if _, err := f.run(Options{Only: "sum"}); err != nil {
		t.Fatal(err)
	}
	if asked["gen"] != 0 || asked["double"] != 0 || asked["sum"] != 1 {
		t.Errorf("--only sum asked %v, want sum alone", asked)
	}
}
