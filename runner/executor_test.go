package runner

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
)

// RunStage, as a cluster job calls it, runs one stage through the same
// path as a run: its outputs and record make the next run skip it.
func TestRunStage(t *testing.T) {
	f := newFixture(t)
	r := f.runner()
	var missing *MissingInputError
	if err := r.RunStage(context.Background(), "double", "job 1"); !errors.As(err, &missing) {
		t.Fatalf("double before gen: want a missing input, got %v", err)
	}
	for _, s := range []string{"gen", "double"} {
		if err := f.runner().RunStage(context.Background(), s, "job 2"); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := f.run(Options{DryRun: true}); err != nil || got != "gen=cached double=cached side=would run sum=would run" {
		t.Errorf("after RunStage: %s, %v", got, err)
	}
	if data, _ := os.ReadFile(f.path("gen/gen.log")); !strings.Contains(string(data), `reason="job 2"`) {
		t.Errorf("gen's log: %s", data)
	}
	f.stages["side"].fn = func(ctx context.Context, env *Env) error { return errors.New("boom") }
	var serr *StageError
	if err := f.runner().RunStage(context.Background(), "side", ""); !errors.As(err, &serr) || serr.Stage != "side" {
		t.Errorf("a failing stage: %v", err)
	}
	if err := f.runner().RunStage(context.Background(), "nope", ""); err == nil {
		t.Error("an unknown stage ran")
	}
}

func TestTasks(t *testing.T) {
	f := newFixture(t)
	if _, err := f.run(Options{}); err != nil {
		t.Fatal(err)
	}
	r := f.runner("gen.n=5", "sum.plus=2")
	decisions, err := r.plan(Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	ts := tasks(decisions, make([]Result, len(decisions)))
	var got []string
	for _, tk := range ts {
		got = append(got, tk.Stage.Name+"<"+strings.Join(tk.After, ","))
	}
	if strings.Join(got, " ") != "gen< double<gen side<gen sum<double" {
		t.Errorf("tasks %v", got)
	}
	if _, err := f.run(Options{Detach: true}); err == nil || !strings.Contains(err.Error(), "detach") {
		t.Errorf("--detach without a scheduler: %v", err)
	}
}

// The local executor runs a stage that declares cpus with that many
// threads.
func TestLocalCPUs(t *testing.T) {
	f := newFixture(t)
	data := strings.Replace(testPipeline, "    outs: [side/side.txt]\n", "    outs: [side/side.txt]\n    resources: {cpus: 1}\n", 1)
	if err := os.WriteFile(f.file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	before := runtime.GOMAXPROCS(0)
	seen := map[string]int{}
	for _, name := range []string{"side", "sum"} {
		fn := f.stages[name].fn
		f.stages[name].fn = func(ctx context.Context, env *Env) error {
			seen[env.Stage] = runtime.GOMAXPROCS(0)
			return fn(ctx, env)
		}
	}
	if _, err := f.run(Options{Jobs: 1}); err != nil {
		t.Fatal(err)
	}
	if seen["side"] != 1 || seen["sum"] != before || runtime.GOMAXPROCS(0) != before {
		t.Errorf("GOMAXPROCS: side %d, sum %d, after %d; want 1, %d, %d", seen["side"], seen["sum"], runtime.GOMAXPROCS(0), before, before)
	}
}
