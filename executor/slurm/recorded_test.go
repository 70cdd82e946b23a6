package slurm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/runner"
)

// fakeSlurm answers the executor's Slurm commands as a cluster would have,
// from recorded output: sbatch hands out ids from 101, squeue answers
// each call with the next of its lines (the last one again once they run
// out), scancel and scontrol answer as told. Once scancel succeeds,
// squeue shows the jobs it cancelled CANCELLED. Every call is kept.
type fakeSlurm struct {
	mu        sync.Mutex
	next      int
	squeue    []squeueAnswer
	scancel   error
	scontrol  string
	calls     [][]string // name and args of each call
	sbatchIn  []string   // the batch scripts
	cancelled [][]string
}

type squeueAnswer struct {
	out string
	err error
}

func (f *fakeSlurm) command(ctx context.Context, stdin, name string, args ...string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, append([]string{name}, args...))
	switch name {
	case "sbatch":
		f.next++
		f.sbatchIn = append(f.sbatchIn, stdin)
		return strconv.Itoa(100+f.next) + "\n", nil
	case "squeue":
		if len(f.squeue) == 0 {
			return "", &CommandError{Command: name, Msg: "no answer recorded"}
		}
		a := f.squeue[0]
		if len(f.squeue) > 1 {
			f.squeue = f.squeue[1:]
		}
		return a.out, a.err
	case "scancel":
		f.cancelled = append(f.cancelled, args)
		if f.scancel == nil {
			var b strings.Builder
			for _, id := range args {
				b.WriteString(id + "|CANCELLED|None|2026-01-02T10:00:00|2026-01-02T10:09:00\n")
			}
			f.squeue = []squeueAnswer{{out: b.String()}}
		}
		return "", f.scancel
	case "scontrol":
		return f.scontrol, nil
	}
	return "", errors.New("unexpected command " + name)
}

// checkArgs fails the test unless args hold every one of want and none
// starting with one of not.
func checkArgs(t *testing.T, what string, args, want, not []string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(args, w) {
			t.Errorf("%s: %v lacks %s", what, args, w)
		}
	}
	for _, n := range not {
		for _, a := range args {
			if strings.HasPrefix(a, n) {
				t.Errorf("%s: %v has %s", what, args, a)
			}
		}
	}
}

// sbatchArgs returns the arguments of the i-th sbatch call.
func (f *fakeSlurm) sbatchArgs(i int) []string {
	n := 0
	for _, c := range f.calls {
		if c[0] == "sbatch" {
			if n == i {
				return c[1:]
			}
			n++
		}
	}
	return nil
}

func fakeExecutor(t *testing.T, f *fakeSlurm) *Executor {
	e := New(Config{Root: t.TempDir(), Command: func(stage string) []string { return []string{"/bin/siamese", "stage", stage} },
		RecordCommand: []string{"/bin/siamese", "record"}, LatencyWait: time.Millisecond})
	e.command = f.command
	e.minPoll, e.maxPoll = time.Millisecond, 5*time.Millisecond
	return e
}

// chain is three tasks, each after the one before, with no outputs.
func chain() []*runner.Task {
	var ts []*runner.Task
	prev := ""
	for _, name := range []string{"ingest", "train", "evaluate"} {
		t := &runner.Task{Stage: &pipeline.Stage{Name: name}, Result: &runner.Result{Stage: name, Outcome: runner.Cancelled}}
		if prev != "" {
			t.After = []string{prev}
		}
		ts, prev = append(ts, t), name
	}
	return ts
}

// A stage job starts only once its upstream jobs succeeded, and is
// killed, not left pending, when one of them fails; a detached run's
// record job starts once every stage job has ended, however it ended, so
// that a failed stage is recorded and the lease given back.
func TestSubmitDependencies(t *testing.T) {
	f := &fakeSlurm{}
	e := fakeExecutor(t, f)
	var leases [][]string
	jobs, err := e.Submit(context.Background(), chain(), true, func(j []string) error {
		leases = append(leases, slices.Clone(j))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"101", "102", "103", "104"}; !slices.Equal(jobs, want) {
		t.Fatalf("jobs %v, want %v", jobs, want)
	}
	if len(leases) != 4 || !slices.Equal(leases[0], []string{"101"}) || !slices.Equal(leases[3], jobs) {
		t.Errorf("leases %v: want one after each submission, the last naming every job", leases)
	}
	tests := []struct {
		job      int
		want     []string
		wantNone []string // prefixes no argument may have
	}{
		{0, nil, []string{"--dependency", "--kill-on-invalid-dep"}},
		{1, []string{"--dependency=afterok:101", "--kill-on-invalid-dep=yes"}, nil},
		{2, []string{"--dependency=afterok:102", "--kill-on-invalid-dep=yes"}, nil},
		{3, []string{"--dependency=afterany:101:102:103", "--job-name=siamese-record"}, []string{"--kill-on-invalid-dep"}},
	}
	for _, tt := range tests {
		checkArgs(t, fmt.Sprintf("sbatch %d", tt.job), f.sbatchArgs(tt.job), tt.want, tt.wantNone)
	}
	if !strings.Contains(f.sbatchIn[3], "exec /bin/siamese record\n") {
		t.Errorf("the record job's script:\n%s", f.sbatchIn[3])
	}
}

// A lease that cannot be written cancels the jobs already submitted.
func TestSubmitCancelsWhenTheLeaseFails(t *testing.T) {
	f := &fakeSlurm{}
	e := fakeExecutor(t, f)
	n := 0
	_, err := e.Submit(context.Background(), chain(), false, func([]string) error {
		if n++; n == 2 {
			return errors.New("disk full")
		}
		return nil
	})
	if err == nil || len(f.cancelled) != 1 || !slices.Equal(f.cancelled[0], []string{"101", "102"}) {
		t.Fatalf("err %v, cancelled %v; want jobs 101 and 102 cancelled", err, f.cancelled)
	}
}

// squeue lines as "squeue --format=%i|%T|%r|%S|%e" prints them.
const (
	running   = "101|RUNNING|None|2026-01-02T10:00:00|2026-01-02T11:00:00\n"
	completed = "101|COMPLETED|None|2026-01-02T10:00:00|2026-01-02T10:05:00\n"
	preempted = "101|PREEMPTED|None|2026-01-02T10:00:00|2026-01-02T10:03:00\n"
)

// wait runs Wait on one task whose job is 101, bounded by a few seconds so
// that a Wait that would hang fails the test instead.
func wait(t *testing.T, e *Executor) (*runner.Task, error) {
	t.Helper()
	task := &runner.Task{Stage: &pipeline.Stage{Name: "train"}, Job: "101", Result: &runner.Result{Stage: "train", Outcome: runner.Cancelled}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := e.Wait(ctx, []*runner.Task{task})
	if ctx.Err() != nil {
		t.Fatalf("Wait did not return before its deadline: %v", err)
	}
	return task, err
}

func TestWaitRecordedStates(t *testing.T) {
	outage := squeueAnswer{err: &CommandError{Command: "squeue", Msg: "slurm_load_jobs error: Unable to contact slurm controller (connect failure)"}}
	tests := []struct {
		name    string
		squeue  []squeueAnswer
		outcome runner.Outcome
		errHas  string
	}{
		// A preempted job (without requeue) has ended, and failed.
		{"preempted", []squeueAnswer{{out: running}, {out: preempted}}, runner.Failed, "slurm job 101 PREEMPTED, exit code 0:15"},
		// A controller that restarts does not answer for a while; the
		// job goes on meanwhile.
		{"squeue outage", []squeueAnswer{{out: running}, outage, outage, outage, {out: completed}}, runner.Ran, ""},
		{"completed", []squeueAnswer{{out: completed}}, runner.Ran, ""},
		// A job the controller forgot: it cannot be told that it
		// succeeded.
		{"forgotten", []squeueAnswer{{err: &CommandError{Command: "squeue", Msg: "slurm_load_jobs error: Invalid job id specified"}}}, runner.Failed, "UNKNOWN"},
		// An upstream job failed: this one never ran.
		{"dependency never satisfied", []squeueAnswer{{out: "101|PENDING|DependencyNeverSatisfied|N/A|N/A\n"}}, runner.Cancelled, "an upstream stage failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSlurm{squeue: tt.squeue, scontrol: "JobId=101 JobState=PREEMPTED ExitCode=0:15\n"}
			task, err := wait(t, fakeExecutor(t, f))
			if task.Result.Outcome != tt.outcome {
				t.Errorf("outcome %s, want %s (%v)", task.Result.Outcome, tt.outcome, err)
			}
			if tt.outcome == runner.Failed {
				var se *runner.StageError
				if !errors.As(err, &se) || !strings.Contains(err.Error(), tt.errHas) {
					t.Errorf("Wait: %v, want a stage error with %q", err, tt.errHas)
				}
			} else if err != nil || !strings.Contains(errString(task.Result.Err), tt.errHas) {
				t.Errorf("Wait: %v, task error %v, want %q", err, task.Result.Err, tt.errHas)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Interrupted while its job runs, Wait cancels it; where scancel fails,
// it says so, for the job may still run.
func TestWaitInterruptedCancels(t *testing.T) {
	for _, scancelErr := range []error{nil, &CommandError{Command: "scancel", Msg: "Unable to contact slurm controller"}} {
		f := &fakeSlurm{squeue: []squeueAnswer{{out: running}}, scancel: scancelErr}
		e := fakeExecutor(t, f)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		task := &runner.Task{Stage: &pipeline.Stage{Name: "train"}, Job: "101", Result: &runner.Result{Stage: "train", Outcome: runner.Cancelled}}
		err := e.Wait(ctx, []*runner.Task{task})
		f.mu.Lock()
		cancelled := f.cancelled
		f.mu.Unlock()
		if !errors.Is(err, context.Canceled) || len(cancelled) != 1 || !slices.Equal(cancelled[0], []string{"101"}) {
			t.Errorf("scancel error %v: Wait returned %v, cancelled %v; want the context's error and job 101 cancelled", scancelErr, err, cancelled)
		}
		if scancelErr != nil && !errors.Is(err, scancelErr) {
			t.Errorf("a failed scancel is not in Wait's error: %v", err)
		}
	}
}

// A cancelled job is waited for until squeue shows it ended, so that the
// root is free once the submitter exits.
func TestInterruptedWaitsForTheCancelledJobs(t *testing.T) {
	f := &fakeSlurm{squeue: []squeueAnswer{{out: running}}}
	e := fakeExecutor(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := e.interrupted(ctx, []string{"101"}, map[string]bool{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var after []string
	for i, c := range f.calls {
		if c[0] == "scancel" {
			for _, d := range f.calls[i+1:] {
				after = append(after, d[0])
			}
		}
	}
	if !slices.Contains(after, "squeue") {
		t.Errorf("calls %v: no squeue after scancel, so nothing waited for the job to end", f.calls)
	}
}

// Ended, which records a detached run, settles each task from squeue: a
// completed job ran, a job squeue no longer knows cannot be told to have
// succeeded.
func TestEndedRecorded(t *testing.T) {
	f := &fakeSlurm{squeue: []squeueAnswer{{out: completed}}}
	e := fakeExecutor(t, f)
	ts := chain()[:2]
	ts[0].Job, ts[1].Job = "101", "102"
	if err := e.Ended(context.Background(), ts); err != nil {
		t.Fatal(err)
	}
	if ts[0].Result.Outcome != runner.Ran || ts[1].Result.Outcome != runner.Failed || !strings.Contains(errString(ts[1].Result.Err), "UNKNOWN") {
		t.Errorf("outcomes %s and %s (%v), want ran, and failed as unknown", ts[0].Result.Outcome, ts[1].Result.Outcome, ts[1].Result.Err)
	}
}

// A completed job's outputs may show on this node's view of a shared
// filesystem a while after the job ends: Wait waits for them, a bounded
// time, before it calls the stage failed.
func TestCompletedJobAwaitsItsOutputs(t *testing.T) {
	for _, late := range []bool{true, false} {
		f := &fakeSlurm{squeue: []squeueAnswer{{out: completed}}}
		e := fakeExecutor(t, f)
		e.cfg.LatencyWait = 3 * time.Second
		if !late {
			e.cfg.LatencyWait = 100 * time.Millisecond
		}
		out := filepath.Join(e.cfg.Root, "train", "model.npy")
		task := &runner.Task{Stage: &pipeline.Stage{Name: "train", Outs: []pipeline.Out{{Path: "train/model.npy"}}}, Job: "101",
			Result: &runner.Result{Stage: "train", Outcome: runner.Cancelled}}
		if late {
			time.AfterFunc(300*time.Millisecond, func() {
				os.MkdirAll(filepath.Dir(out), 0o755)
				os.WriteFile(out, []byte("x"), 0o644)
			})
		}
		err := e.Wait(context.Background(), []*runner.Task{task})
		if late && (err != nil || task.Result.Outcome != runner.Ran) {
			t.Errorf("outputs that show 0.3 s late: %v, %s; want the stage ran", err, task.Result.Outcome)
		}
		if !late && (err == nil || !strings.Contains(err.Error(), "did not show up within 100ms")) {
			t.Errorf("outputs that never show: %v, want the stage failed", err)
		}
	}
}

// A failed job's error ends with the last lines of its stage's log, but
// only of a log written since the job started: an older one is another
// run's.
func TestFailedJobShowsItsLog(t *testing.T) {
	for _, fresh := range []bool{true, false} {
		f := &fakeSlurm{squeue: []squeueAnswer{{out: "101|FAILED|NonZeroExitCode|2026-01-02T10:00:00|2026-01-02T10:05:00\n"}}, scontrol: "ExitCode=1:0"}
		e := fakeExecutor(t, f)
		log := filepath.Join(e.cfg.Root, "train.log")
		if err := os.WriteFile(log, []byte("epoch 1\nerror: out of luck\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		started := time.Date(2026, 1, 2, 10, 0, 0, 0, time.Local)
		mtime := started.Add(time.Minute)
		if !fresh {
			mtime = started.Add(-time.Hour)
		}
		if err := os.Chtimes(log, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		e.cfg.LogPath = func(*pipeline.Stage) string { return log }
		_, err := wait(t, e)
		if shown := strings.Contains(errString(err), "error: out of luck"); shown != fresh || !strings.Contains(errString(err), "exit code 1:0") {
			t.Errorf("log written since the job started %v: the error shows it %v:\n%v", fresh, shown, err)
		}
	}
}
