package runner

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/pipeline"
)

// TestGuardedTurnsPanicsIntoErrors: a panic in a goroutine a stage starts
// through Guarded is that goroutine's error, not a crash of the program.
func TestGuardedTurnsPanicsIntoErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name  string
		f     func() error
		want  error
		panic bool
	}{
		{"nil", func() error { return nil }, nil, false},
		{"error", func() error { return boom }, boom, false},
		{"panic", func() error { panic("boom") }, nil, true},
	} {
		err := Guarded(tc.f)()
		var perr *PanicError
		if got := errors.As(err, &perr); got != tc.panic {
			t.Errorf("%s: error %v, a PanicError: %v, want %v", tc.name, err, got, tc.panic)
		}
		if !tc.panic && err != tc.want {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestPanicBecomesTheStagesFailure(t *testing.T) {
	f := newFixture(t)
	f.stages["double"].fn = func(ctx context.Context, env *Env) error {
		var m map[string]int
		m["x"]++ // a nil map: panics
		return nil
	}
	var terminal bytes.Buffer
	r := f.runner()
	r.Log = slog.New(slog.NewTextHandler(&terminal, nil))
	_, err := r.Run(context.Background(), Options{Jobs: 2})
	var serr *StageError
	var perr *PanicError
	if !errors.As(err, &serr) || serr.Stage != "double" || !errors.As(err, &perr) ||
		err.Error() != "stage double failed: panic: assignment to entry in nil map" {
		t.Fatalf("run: %v", err)
	}
	if strings.Contains(terminal.String(), "goroutine") {
		t.Errorf("the stack reached the terminal:\n%s", terminal.String())
	}
	log, _ := os.ReadFile(f.path("double/double.log"))
	if !strings.Contains(string(log), "stage panicked") || !strings.Contains(string(log), "runSafely") {
		t.Errorf("the stage log lacks the stack:\n%s", log)
	}
	if _, err := os.Stat(f.path("double/double.txt")); err == nil {
		t.Error("the panicking stage's output is in place")
	}
}

// resumer is the error of a stage that can resume.
type resumer struct{ error }

func (resumer) ResumesFrom() string { return "epoch 3" }
func (r resumer) Unwrap() error     { return r.error }

func TestInterruptedRunSaysWhatResumes(t *testing.T) {
	f := newFixture(t)
	started := make(chan struct{}, 2)
	f.stages["double"].fn = func(ctx context.Context, env *Env) error {
		started <- struct{}{}
		<-ctx.Done()
		return resumer{ctx.Err()}
	}
	f.stages["side"].fn = func(ctx context.Context, env *Env) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		<-started
		<-started
		cancel(errors.New("SIGTERM"))
	}()
	begin := time.Now()
	rep, err := f.runner().Run(ctx, Options{Jobs: 2})
	var ie *InterruptedError
	if !errors.As(err, &ie) || err.Error() != "interrupted (SIGTERM): double will resume from epoch 3, side will rerun" {
		t.Fatalf("run: %v", err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Errorf("the run took %v to stop", d)
	}
	for _, res := range rep.Results {
		if want := map[string]Outcome{"gen": Ran, "double": Cancelled, "side": Cancelled, "sum": Cancelled}[res.Stage]; res.Outcome != want {
			t.Errorf("%s: %s, want %s", res.Stage, res.Outcome, want)
		}
	}
}

// elsewhere is a Scheduler whose stages run on other machines.
type elsewhere struct{ Scheduler }

func TestResourcesCheckedBeforeAnythingRuns(t *testing.T) {
	f := newFixture(t)
	f.stages["double"].spec.Resources = func(p pipeline.Params, in pipeline.Sizes) pipeline.Need {
		// Each output as large as ten times its input; memory as asked.
		return pipeline.Need{Outputs: map[string]int64{"double.txt": 10 * in["gen.txt"]}, Memory: 3000}
	}
	f.stages["gen"].spec.Resources = func(p pipeline.Params, in pipeline.Sizes) pipeline.Need {
		return pipeline.Need{Outputs: map[string]int64{"gen.txt": int64(p.Int("n")) * 100}}
	}
	defer func(d func(string) (int64, error), m func() (int64, string, error)) { freeDisk, freeMemory = d, m }(freeDisk, freeMemory)
	freeDisk = func(string) (int64, error) { return 5000, nil }
	freeMemory = func() (int64, string, error) { return 2000, "test", nil }
	for _, tc := range []struct {
		n    string
		want string
	}{
		{"n=4", "not enough memory: stage double needs about 3.0 kB, and 2.0 kB are available (test); nothing ran"},
		{"n=5", "not enough disk: with stage double the outputs of this run need 5.5 kB more under " + f.root + ", where 5.0 kB are free; nothing ran"},
	} {
		_, err := f.run(Options{}, "gen.n="+strings.TrimPrefix(tc.n, "n="))
		var rerr *ResourceError
		if !errors.As(err, &rerr) || err.Error() != tc.want {
			t.Errorf("%s: %v\nwant %s", tc.n, err, tc.want)
		}
		_, err = f.run(Options{DryRun: true}, "gen.n="+strings.TrimPrefix(tc.n, "n="))
		if !errors.As(err, &rerr) {
			t.Errorf("%s, dry run: %v", tc.n, err)
		}
	}
	for name, s := range f.stages {
		if s.runs.Load() != 0 {
			t.Errorf("stage %s ran", name)
		}
	}
	// Stages a scheduler runs on other machines are not held to this
	// machine's memory (a dry run calls none of the scheduler's methods).
	if _, err := f.run(Options{DryRun: true, Executor: elsewhere{}}, "gen.n=4"); err != nil {
		t.Errorf("a dry run for a scheduler: %v", err)
	}
	freeMemory = func() (int64, string, error) { return 1 << 30, "test", nil }
	if _, err := f.run(Options{}, "gen.n=4"); err != nil {
		t.Errorf("a run that fits: %v", err)
	}
}

// TestJobsLimit runs four independent stages and counts how many ran at
// once: never more than --jobs, and as many when there is work for them.
func TestJobsLimit(t *testing.T) {
	var running, most, target atomic.Int32
	slow := &fakeStage{spec: pipeline.Spec{Version: "1", Params: []pipeline.Param{{Name: "k", Default: 0}}, Outputs: []string{"o.txt"}}}
	slow.fn = func(ctx context.Context, env *Env) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		// Wait (a while at most) for as many stages as --jobs allows to
		// be running, so that the count does not hang on timing.
		for deadline := time.Now().Add(2 * time.Second); running.Load() < target.Load() && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		return os.WriteFile(env.Out("o.txt"), []byte("o"), 0o644)
	}
	dir := t.TempDir()
	var yaml strings.Builder
	yaml.WriteString("stages:\n")
	for _, s := range []string{"a", "b", "c", "d"} {
		yaml.WriteString("  " + s + ": {uses: slow, outs: [" + s + "/o.txt]}\n")
	}
	file := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(file, []byte(yaml.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := Registry{"slow": slow}
	for _, jobs := range []int{1, 2, 3} {
		p, err := pipeline.Load(file, reg, filepath.Join(dir, "out"))
		if err != nil {
			t.Fatal(err)
		}
		most.Store(0)
		target.Store(int32(jobs))
		if _, err := (&Runner{Pipeline: p, Stages: reg}).Run(context.Background(), Options{Jobs: jobs, Force: true}); err != nil {
			t.Fatal(err)
		}
		if got := most.Load(); got != int32(jobs) {
			t.Errorf("--jobs %d: %d stages ran at once", jobs, got)
		}
	}
}

// TestDiskFullKeepsTheLastGoodOutputs: a stage whose write fails with
// ENOSPC (here a real one, from /dev/full) fails with a clear error, and
// its last good outputs stay.
func TestDiskFullKeepsTheLastGoodOutputs(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	f := newFixture(t)
	if _, err := f.run(Options{}); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(f.path("double/double.txt"))
	f.stages["double"].fn = func(ctx context.Context, env *Env) error {
		return os.WriteFile("/dev/full", []byte("doubled"), 0o644)
	}
	_, err := f.run(Options{Force: true})
	var full *DiskFullError
	if !errors.As(err, &full) || err.Error() != "stage double failed: the disk is full: write /dev/full: no space left on device; the last good outputs are kept" {
		t.Fatalf("run: %v", err)
	}
	if now, _ := os.ReadFile(f.path("double/double.txt")); len(good) == 0 || !bytes.Equal(now, good) {
		t.Errorf("double.txt is %q, was %q", now, good)
	}
}

// TestStageThatIgnoresCancellationIsAbandoned: a run ends promptly after a
// cancellation even when a stage does not watch its context.
func TestStageThatIgnoresCancellationIsAbandoned(t *testing.T) {
	f := newFixture(t)
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	f.stages["double"].fn = func(ctx context.Context, env *Env) error {
		close(started)
		<-release // deaf to ctx
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	begin := time.Now()
	_, err := f.runner().Run(ctx, Options{Jobs: 2})
	if !errors.Is(err, context.Canceled) || time.Since(begin) > abandonAfter+time.Second {
		t.Fatalf("run: %v after %v", err, time.Since(begin))
	}
}
