package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/pipeline"
)

// Test stages: gen writes n lines, double doubles them, sum adds them up
// and writes a directory; side runs beside double. Each counts its runs.

type fakeStage struct {
	spec  pipeline.Spec
	runs  atomic.Int32
	fn    func(ctx context.Context, env *Env) error
	delay time.Duration
}

func (f *fakeStage) Spec() pipeline.Spec { return f.spec }
func (f *fakeStage) Run(ctx context.Context, env *Env) error {
	f.runs.Add(1)
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return f.fn(ctx, env)
}

func readInts(name string) ([]int, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var v []int
	for _, f := range strings.Fields(string(data)) {
		x, err := strconv.Atoi(f)
		if err != nil {
			return nil, err
		}
		v = append(v, x)
	}
	return v, nil
}

func writeInts(name string, v []int) error {
	var b bytes.Buffer
	for _, x := range v {
		fmt.Fprintln(&b, x)
	}
	return os.WriteFile(name, b.Bytes(), 0o644)
}

func newRegistry() (Registry, map[string]*fakeStage) {
	gen := &fakeStage{spec: pipeline.Spec{Version: "1", Params: []pipeline.Param{{Name: "n", Default: 3}},
		Outputs: []string{"gen.txt"}}}
	gen.fn = func(ctx context.Context, env *Env) error {
		var v []int
		for i := range env.Params.Int("n") {
			v = append(v, i+1)
		}
		return writeInts(env.Out("gen.txt"), v)
	}
	double := &fakeStage{spec: pipeline.Spec{Version: "1", Inputs: []string{"gen.txt"}, Outputs: []string{"double.txt"}}}
	double.fn = func(ctx context.Context, env *Env) error {
		v, err := readInts(env.In("gen.txt"))
		if err != nil {
			return err
		}
		for i := range v {
			v[i] *= 2
		}
		return writeInts(env.Out("double.txt"), v)
	}
	side := &fakeStage{spec: pipeline.Spec{Version: "1", Inputs: []string{"gen.txt"}, Outputs: []string{"side.txt"}}}
	side.fn = func(ctx context.Context, env *Env) error {
		return os.WriteFile(env.Out("side.txt"), []byte("side\n"), 0o644)
	}
	sum := &fakeStage{spec: pipeline.Spec{Version: "1", Params: []pipeline.Param{{Name: "plus", Default: 0}},
		Inputs: []string{"double.txt"}, Outputs: []string{"sum.txt", "model/"}}}
	sum.fn = func(ctx context.Context, env *Env) error {
		v, err := readInts(env.In("double.txt"))
		if err != nil {
			return err
		}
		total := env.Params.Int("plus")
		for _, x := range v {
			total += x
		}
		if err := writeInts(env.Out("sum.txt"), []int{total}); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(env.Out("model/"), "w.txt"), []byte("weights\n"), 0o644)
	}
	stages := map[string]*fakeStage{"gen": gen, "double": double, "side": side, "sum": sum}
	reg := Registry{}
	for k, v := range stages {
		reg[k] = v
	}
	return reg, stages
}

const testPipeline = `stages:
  gen:
    params: {n: 4}
    outs: [gen/gen.txt]
  double:
    deps: [gen]
    outs: [double/double.txt]
  side:
    deps: [gen]
    outs: [side/side.txt]
  sum:
    deps: [double]
    outs: [sum/sum.txt, sum/model/]
`

type fixture struct {
	t      *testing.T
	root   string
	file   string
	reg    Registry
	stages map[string]*fakeStage
}

func newFixture(t *testing.T) *fixture {
	dir := t.TempDir()
	file := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(file, []byte(testPipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	reg, stages := newRegistry()
	return &fixture{t: t, root: filepath.Join(dir, "artifacts"), file: file, reg: reg, stages: stages}
}

func (f *fixture) runner(sets ...string) *Runner {
	p, err := pipeline.Load(f.file, f.reg, f.root)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, s := range sets {
		if err := p.Set(s); err != nil {
			f.t.Fatal(err)
		}
	}
	return &Runner{Pipeline: p, Stages: f.reg}
}

// run runs and returns the outcome of each stage, "gen=ran double=cached ...".
func (f *fixture) run(opt Options, sets ...string) (string, error) {
	rep, err := f.runner(sets...).Run(context.Background(), opt)
	var parts []string
	for _, r := range rep.Results {
		parts = append(parts, r.Stage+"="+string(r.Outcome))
	}
	return strings.Join(parts, " "), err
}

func (f *fixture) path(rel string) string { return filepath.Join(f.root, rel) }

func TestRunCaching(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fixture)
		opt   Options
		sets  []string
		want  string
	}{
		{"second run skips everything", nil, Options{}, nil,
			"gen=cached double=cached side=cached sum=cached"},
		{"param change reruns the stage and downstream", nil, Options{}, []string{"gen.n=5"},
			"gen=ran double=ran side=ran sum=ran"},
		{"downstream param reruns only that stage", nil, Options{}, []string{"sum.plus=1"},
			"gen=cached double=cached side=cached sum=ran"},
		{"param changed in the file", func(f *fixture) {
			data := strings.Replace(testPipeline, "{n: 4}", "{n: 6}", 1)
			if err := os.WriteFile(f.file, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}, Options{}, nil, "gen=ran double=ran side=ran sum=ran"},
		{"deleted output reruns its stage and downstream", func(f *fixture) {
			os.Remove(f.path("double/double.txt"))
		}, Options{}, nil, "gen=cached double=ran side=cached sum=ran"},
		{"edited output reruns its stage", func(f *fixture) {
			os.WriteFile(f.path("side/side.txt"), []byte("edit\n"), 0o644)
		}, Options{}, nil, "gen=cached double=cached side=ran sum=cached"},
		{"file in a directory output edited", func(f *fixture) {
			os.WriteFile(f.path("sum/model/w.txt"), []byte("other\n"), 0o644)
		}, Options{}, nil, "gen=cached double=cached side=cached sum=ran"},
		{"touched output is not rerun", func(f *fixture) {
			later := time.Now().Add(time.Hour)
			os.Chtimes(f.path("gen/gen.txt"), later, later)
		}, Options{}, nil, "gen=cached double=cached side=cached sum=cached"},
		{"only runs one stage", nil, Options{Only: "double"}, nil,
			"gen=not selected double=ran side=not selected sum=not selected"},
		{"from runs a stage and downstream", nil, Options{From: "double"}, nil,
			"gen=not selected double=ran side=not selected sum=ran"},
		{"force reruns all", nil, Options{Force: true}, nil, "gen=ran double=ran side=ran sum=ran"},
		{"dry run runs nothing", func(f *fixture) {
			os.Remove(f.path("gen/gen.txt"))
		}, Options{DryRun: true}, nil, "gen=would run double=would run side=would run sum=would run"},
		{"parallel jobs", func(f *fixture) { os.Remove(f.path("gen/gen.txt")) }, Options{Jobs: 2}, nil,
			"gen=ran double=ran side=ran sum=ran"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if got, err := f.run(Options{}); err != nil || got != "gen=ran double=ran side=ran sum=ran" {
				t.Fatalf("first run: %s, %v", got, err)
			}
			if tt.setup != nil {
				tt.setup(f)
			}
			got, err := f.run(tt.opt, tt.sets...)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !tt.opt.DryRun {
				// What ran is now cached.
				if got, err := f.run(Options{}, tt.sets...); err != nil || strings.Contains(got, "ran") && tt.opt.Only == "" {
					t.Errorf("third run: %s, %v", got, err)
				}
			}
		})
	}
}

func TestDryRunReasons(t *testing.T) {
	f := newFixture(t)
	if _, err := f.run(Options{}); err != nil {
		t.Fatal(err)
	}
	os.Remove(f.path("double/double.txt"))
	rep, err := f.runner("sum.plus=2").Run(context.Background(), Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"gen": "", "side": "", "double": "output double/double.txt is missing",
		"sum": "upstream stage double runs"}
	for _, r := range rep.Results {
		if r.Reason != want[r.Stage] {
			t.Errorf("%s: reason %q, want %q", r.Stage, r.Reason, want[r.Stage])
		}
	}
	os.Remove(filepath.Join(f.root, internalDir, "stages", "gen.json"))
	rep, _ = f.runner("sum.plus=2").Run(context.Background(), Options{DryRun: true})
	if r := rep.Results[0]; r.Reason != "never run" {
		t.Errorf("gen: %q", r.Reason)
	}
	f2 := newFixture(t)
	f2.run(Options{})
	rep, _ = f2.runner("sum.plus=2").Run(context.Background(), Options{DryRun: true})
	if r := rep.Results[3]; r.Reason != "params changed: plus 0 → 2" {
		t.Errorf("sum: %q", r.Reason)
	}
}

func TestOnlyNeedsInputs(t *testing.T) {
	f := newFixture(t)
	_, err := f.run(Options{Only: "double"})
	var missing *MissingInputError
	if !errors.As(err, &missing) || missing.Dep != "gen" || !strings.Contains(err.Error(), "gen/gen.txt") {
		t.Fatalf("want a missing input error naming gen, got %v", err)
	}
	if _, err := f.run(Options{Only: "nope"}); err == nil {
		t.Fatal("--only of an unknown stage ran")
	}
}

func TestFailedStageLeavesNothing(t *testing.T) {
	f := newFixture(t)
	f.stages["double"].fn = func(ctx context.Context, env *Env) error {
		os.WriteFile(env.Out("double.txt"), []byte("half"), 0o644)
		return errors.New("boom")
	}
	f.stages["side"].delay = 5 * time.Second // cancelled by double's failure
	start := time.Now()
	got, err := f.run(Options{Jobs: 2})
	var se *StageError
	if !errors.As(err, &se) || se.Stage != "double" || !strings.Contains(err.Error(), "stage double failed: boom") {
		t.Fatalf("want double's failure, got %v", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("side was not cancelled")
	}
	if got != "gen=ran double=failed side=cancelled sum=cancelled" {
		t.Errorf("outcomes %s", got)
	}
	if _, err := os.Stat(f.path("double/double.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed stage's output was moved into place")
	}
	if _, err := os.Stat(filepath.Join(f.root, internalDir, "stages", "double.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed stage has a record")
	}
	tmp, _ := os.ReadDir(filepath.Join(f.root, internalDir, "tmp"))
	if len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

func TestStageMustWriteItsOutputs(t *testing.T) {
	f := newFixture(t)
	f.stages["side"].fn = func(ctx context.Context, env *Env) error { return nil }
	_, err := f.run(Options{})
	if err == nil || !strings.Contains(err.Error(), "stage side failed: stage wrote no side/side.txt") {
		t.Fatalf("got %v", err)
	}
}

func TestLock(t *testing.T) {
	f := newFixture(t)
	l, err := acquireLock(f.root)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.run(Options{})
	var le *LockError
	if !errors.As(err, &le) || le.PID != os.Getpid() || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("want a lock error naming our pid, got %v", err)
	}
	l.release()
	if _, err := f.run(Options{}); err != nil {
		t.Fatal(err)
	}
}

// TestKillAndResume kills a run with SIGKILL in the middle of a stage and
// checks that the rerun ends with the bytes of an uninterrupted run.
func TestKillAndResume(t *testing.T) {
	if os.Getenv("RUNNER_KILL_HELPER") != "" {
		return
	}
	f := newFixture(t)
	started := filepath.Join(t.TempDir(), "started")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelper$")
	cmd.Env = append(os.Environ(), "RUNNER_KILL_HELPER=1", "KILL_FILE="+f.file, "KILL_ROOT="+f.root, "KILL_STARTED="+started)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("helper never reached the slow stage:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	// The killed stage left no record and no output; its lock is free.
	if _, err := os.Stat(f.path("sum/sum.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("killed stage's output is in place")
	}
	got, err := f.run(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got != "gen=cached double=cached side=cached sum=ran" {
		t.Errorf("rerun: %s", got)
	}
	clean := newFixture(t)
	if _, err := clean.run(Options{}); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"gen/gen.txt", "double/double.txt", "side/side.txt", "sum/sum.txt", "sum/model/w.txt"} {
		a, errA := os.ReadFile(f.path(rel))
		b, errB := os.ReadFile(clean.path(rel))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs from an uninterrupted run's (%v, %v)", rel, errA, errB)
		}
	}
}

// TestKillHelper is the process TestKillAndResume kills: it runs the test
// pipeline with a sum stage that writes half its output and then hangs.
func TestKillHelper(t *testing.T) {
	if os.Getenv("RUNNER_KILL_HELPER") == "" {
		t.Skip("run by TestKillAndResume")
	}
	reg, stages := newRegistry()
	stages["sum"].fn = func(ctx context.Context, env *Env) error {
		os.WriteFile(env.Out("sum.txt"), []byte("partial"), 0o644)
		// side runs beside double and sum: the kill must find it done.
		for {
			if _, err := os.Stat(recordPath(os.Getenv("KILL_ROOT"), "side")); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
		os.WriteFile(os.Getenv("KILL_STARTED"), nil, 0o644)
		<-ctx.Done()
		return ctx.Err()
	}
	p, err := pipeline.Load(os.Getenv("KILL_FILE"), reg, os.Getenv("KILL_ROOT"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	(&Runner{Pipeline: p, Stages: reg}).Run(ctx, Options{})
}

func TestStageLogFiles(t *testing.T) {
	f := newFixture(t)
	if _, err := f.run(Options{}); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"gen/gen.log", "sum/sum.log"} {
		data, err := os.ReadFile(f.path(rel))
		if err != nil || !strings.Contains(string(data), "stage running") || !strings.Contains(string(data), "stage done") {
			t.Errorf("%s: %q, %v", rel, data, err)
		}
	}
	// A log whose name an out takes goes under the runner's directory.
	p := f.runner().Pipeline
	s := *p.Stage("gen")
	s.Outs = []pipeline.Out{{Path: "gen/gen.log"}}
	if got := f.runner().LogPath(&s); got != filepath.Join(f.root, internalDir, "logs", "gen.log") {
		t.Errorf("log path %s", got)
	}
}

func TestClean(t *testing.T) {
	f := newFixture(t)
	if _, err := f.run(Options{}); err != nil {
		t.Fatal(err)
	}
	if err := f.runner().Clean(); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"gen/gen.txt", "sum/model", internalDir + "/stages"} {
		if _, err := os.Stat(f.path(rel)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived clean", rel)
		}
	}
	if got, _ := f.run(Options{}); got != "gen=ran double=ran side=ran sum=ran" {
		t.Errorf("after clean: %s", got)
	}
}

func TestFinishHook(t *testing.T) {
	f := newFixture(t)
	f.stages["side"].fn = func(ctx context.Context, env *Env) error { return errors.New("side broke") }
	var seen *Report
	var seenErr error
	hookErr := errors.New("hook")
	rep, err := f.runner().Run(context.Background(), Options{Finish: func(rep *Report, err error) error {
		// The hook runs while the run holds the lock.
		if _, lerr := acquireLock(f.root); lerr == nil {
			t.Error("the lock was free during Finish")
		}
		seen, seenErr = rep, err
		return hookErr
	}})
	if seen != rep || seenErr == nil || !errors.Is(err, hookErr) || !strings.Contains(err.Error(), "side broke") {
		t.Fatalf("hook saw %v, run returned %v", seenErr, err)
	}
	if rep.End.IsZero() {
		t.Error("the report has no end time in the hook")
	}
}

func TestFailedDepStopsDownstream(t *testing.T) {
	// Hold back the failure's cancellation after double's dependents
	// learn it is done, as a busy scheduler may.
	testHookStageReturn = func() { time.Sleep(50 * time.Millisecond) }
	defer func() { testHookStageReturn = func() {} }()
	f := newFixture(t)
	f.stages["double"].fn = func(ctx context.Context, env *Env) error { return errors.New("boom") }
	got, err := f.run(Options{Jobs: 4})
	if err == nil || !strings.Contains(err.Error(), "stage double failed") {
		t.Fatalf("got %v", err)
	}
	if n := f.stages["sum"].runs.Load(); n != 0 || !strings.Contains(got, "sum=cancelled") {
		t.Fatalf("sum ran %d times after double failed: %s", n, got)
	}
}

func TestFailedRerunKeepsTheLastGoodOutputs(t *testing.T) {
	f := newFixture(t)
	if _, err := f.run(Options{}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(f.path("double/double.txt"))
	good := f.stages["double"].fn
	f.stages["double"].fn = func(ctx context.Context, env *Env) error {
		os.WriteFile(env.Out("double.txt"), []byte("garbage"), 0o644)
		return errors.New("boom")
	}
	if _, err := f.run(Options{Force: true}); err == nil {
		t.Fatal("the run succeeded")
	}
	if after, _ := os.ReadFile(f.path("double/double.txt")); !bytes.Equal(before, after) {
		t.Errorf("a failed rerun replaced the output: %q", after)
	}
	f.stages["double"].fn = good
	if got, err := f.run(Options{}); err != nil || got != "gen=cached double=cached side=cached sum=cached" {
		t.Errorf("after the failed rerun: %s, %v", got, err)
	}
}

func TestTouchedOutputIsHashedOnce(t *testing.T) {
	f := newFixture(t)
	if _, err := f.run(Options{}); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour).Truncate(time.Second)
	if err := os.Chtimes(f.path("gen/gen.txt"), later, later); err != nil {
		t.Fatal(err)
	}
	if got, err := f.run(Options{}); err != nil || strings.Contains(got, "ran") {
		t.Fatalf("after touching: %s, %v", got, err)
	}
	rec, err := readRecord(f.root, "gen")
	if err != nil || rec.Outs[0].MTime != later.UnixNano() {
		t.Errorf("the record keeps the old mtime: %+v, %v", rec, err)
	}
}

func TestEmptyDirectoryOutputIsCached(t *testing.T) {
	f := newFixture(t)
	f.stages["sum"].fn = func(ctx context.Context, env *Env) error {
		return os.WriteFile(env.Out("sum.txt"), []byte("0\n"), 0o644) // model/ stays empty
	}
	if _, err := f.run(Options{}); err != nil {
		t.Fatal(err)
	}
	if got, err := f.run(Options{}); err != nil || got != "gen=cached double=cached side=cached sum=cached" {
		t.Errorf("second run: %s, %v", got, err)
	}
}
