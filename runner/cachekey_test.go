package runner

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestCacheKey changes one part of a stage's cache key at a time and
// checks that the stage, and what is downstream of it, reruns for that
// reason and no other. (The params are TestRunCaching's and
// TestDryRunReasons's; tracked sources are TestTrackedSources's.)
func TestCacheKey(t *testing.T) {
	tests := []struct {
		name    string
		change  func(f *fixture)
		reasons map[string]string
		want    string // outcomes of the next run
	}{
		{"code version bump", func(f *fixture) {
			f.stages["double"].spec.Version = "2"
		}, map[string]string{"gen": "", "double": "code version changed (1 → 2)", "side": "", "sum": "upstream stage double runs"},
			"gen=cached double=ran side=cached sum=ran"},
		{"input rewritten by --only upstream", func(f *fixture) {
			// Same params, other bytes: as a fix to gen's code that did
			// not bump its version, run alone.
			f.stages["gen"].fn = func(ctx context.Context, env *Env) error {
				return os.WriteFile(env.Out("gen.txt"), []byte("7\n8\n"), 0o644)
			}
			if got, err := f.run(Options{Only: "gen"}); err != nil || got != "gen=ran double=not selected side=not selected sum=not selected" {
				f.t.Fatalf("--only gen: %s, %v", got, err)
			}
		}, map[string]string{"gen": "", "double": "input gen/gen.txt changed", "side": "input gen/gen.txt changed",
			"sum": "upstream stage double runs"},
			"gen=cached double=ran side=ran sum=ran"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if got, err := f.run(Options{}); err != nil || got != "gen=ran double=ran side=ran sum=ran" {
				t.Fatalf("first run: %s, %v", got, err)
			}
			tt.change(f)
			got := f.reasons()
			for stage, want := range tt.reasons {
				if got[stage] != want {
					t.Errorf("%s: reason %q, want %q", stage, got[stage], want)
				}
			}
			if out, err := f.run(Options{}); err != nil || out != tt.want {
				t.Errorf("run: %s, %v; want %s", out, err, tt.want)
			}
			if out, err := f.run(Options{}); err != nil || strings.Contains(out, "ran") {
				t.Errorf("next run: %s, %v", out, err)
			}
		})
	}
}
