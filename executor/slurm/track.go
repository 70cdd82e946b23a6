package slurm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/siamese-pipeline/siamese/runner"
)

// Job is what squeue says of a job.
type Job struct {
	ID     string
	State  string // PENDING, RUNNING, COMPLETED, FAILED, ...
	Reason string // why it is pending, or why it ended
	Start  time.Time
	End    time.Time
}

// failed are the states in which a job has ended without succeeding.
var failed = []string{"FAILED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "CANCELLED", "BOOT_FAIL", "DEADLINE", "PREEMPTED", "REVOKED", "SPECIAL_EXIT"}

// Ended reports whether the job will change state no more.
func (j Job) Ended() bool { return j.State == "COMPLETED" || slices.Contains(failed, j.State) }

// Failed reports whether the job ended, or will never start, without
// succeeding: a job whose dependency can never be satisfied is one, also
// where the cluster lets it wait instead of cancelling it.
func (j Job) Failed() bool {
	return slices.Contains(failed, j.State) || (j.State == "PENDING" && j.Reason == "DependencyNeverSatisfied")
}

// cancelWait bounds the wait for cancelled jobs to end; Slurm's KillWait
// (30 s by default) bounds how long they take.
const cancelWait = 45 * time.Second

// squeueOutage is how long Wait keeps trying while squeue fails.
const squeueOutage = 2 * time.Minute

// Jobs asks squeue, in one call, for the jobs with the given ids. Jobs the
// controller has forgotten (ended longer ago than its MinJobAge) are
// missing from the answer.
func (e *Executor) Jobs(ctx context.Context, ids []string) (map[string]Job, error) {
	jobs := map[string]Job{}
	if len(ids) == 0 {
		return jobs, nil
	}
	out, err := e.command(ctx, "", "squeue", "--noheader", "--states=all", "--jobs="+strings.Join(ids, ","),
		"--format=%i|%T|%r|%S|%e")
	var cerr *CommandError
	if errors.As(err, &cerr) && strings.Contains(cerr.Msg, "Invalid job id") {
		return jobs, nil // every one of them forgotten
	}
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Split(strings.TrimSpace(sc.Text()), "|")
		if len(f) != 5 {
			continue
		}
		j := Job{ID: f[0], State: strings.TrimSuffix(f[1], "+"), Reason: f[2], Start: parseTime(f[3]), End: parseTime(f[4])}
		jobs[j.ID] = j
	}
	return jobs, nil
}

func parseTime(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02T15:04:05", s, time.Local)
	if err != nil {
		return time.Time{}
	}
	return t
}

// Active implements runner.Scheduler.
func (e *Executor) Active(ctx context.Context, ids []string) ([]string, error) {
	jobs, err := e.Jobs(ctx, ids)
	if err != nil {
		return nil, err
	}
	var active []string
	for _, id := range ids {
		if j, ok := jobs[id]; ok && !j.Ended() {
			active = append(active, id)
		}
	}
	return active, nil
}

// Wait implements runner.Scheduler: it polls squeue, backing off while
// nothing changes, until every task's job has ended.
func (e *Executor) Wait(ctx context.Context, tasks []*runner.Task) error {
	var ids []string
	for _, t := range tasks {
		ids = append(ids, t.Job)
	}
	last := map[string]string{}
	done := map[string]bool{}
	poll := e.minPoll
	var failing time.Time // since when squeue has failed, if it does
	for {
		jobs, err := e.Jobs(ctx, ids)
		if ctx.Err() != nil {
			return e.interrupted(ctx, ids, done)
		}
		if err != nil {
			// A controller that restarts does not answer for a while; the
			// jobs go on meanwhile, and hold the root through the lease.
			if failing.IsZero() {
				failing = time.Now()
			}
			if time.Since(failing) > squeueOutage {
				return fmt.Errorf("track jobs %s (they may still run): %w", strings.Join(ids, ","), err)
			}
			e.progress("squeue failed, trying again: %v", err)
			select {
			case <-ctx.Done():
				return e.interrupted(ctx, ids, done)
			case <-time.After(e.maxPoll):
			}
			continue
		}
		failing = time.Time{}
		changed := false
		for _, t := range tasks {
			if done[t.Job] {
				continue
			}
			j, ok := jobs[t.Job]
			if !ok {
				j = Job{ID: t.Job, State: "UNKNOWN", Reason: "the controller no longer knows the job"}
			}
			if state := j.State + " " + j.Reason; state != last[t.Job] {
				last[t.Job], changed = state, true
				e.progress("%-10s job %-8s %s", t.Stage.Name, t.Job, describe(j))
			}
			if j.Ended() || j.Failed() || !ok {
				done[t.Job] = true
				e.settle(ctx, t, j)
			}
		}
		if len(done) == len(tasks) {
			e.status("")
			return stageErrors(tasks)
		}
		e.status(summary(tasks, jobs, done))
		if changed {
			poll = e.minPoll
		} else {
			poll = min(poll*3/2, e.maxPoll)
		}
		select {
		case <-ctx.Done():
			return e.interrupted(ctx, ids, done)
		case <-time.After(poll):
		}
	}
}

// interrupted cancels the jobs that have not ended, with one scancel.
func (e *Executor) interrupted(ctx context.Context, ids []string, done map[string]bool) error {
	var live []string
	for _, id := range ids {
		if !done[id] {
			live = append(live, id)
		}
	}
	bg := context.WithoutCancel(ctx)
	if err := e.cancel(bg, live); err != nil {
		return errors.Join(ctx.Err(), fmt.Errorf("cancel jobs %s: %w", strings.Join(live, ","), err))
	}
	if len(live) == 0 {
		return ctx.Err()
	}
	// Wait, a bounded time, for the cancelled jobs' processes to be gone
	// (COMPLETING), so that the root is free once the submitter exits.
	for deadline := time.Now().Add(cancelWait); time.Now().Before(deadline); time.Sleep(e.minPoll) {
		if left, err := e.Active(bg, live); err != nil || len(left) == 0 {
			break
		}
	}
	e.progress("cancelled jobs %s", strings.Join(live, ","))
	return ctx.Err()
}

// Ended implements runner.Scheduler.
func (e *Executor) Ended(ctx context.Context, tasks []*runner.Task) error {
	var ids []string
	for _, t := range tasks {
		ids = append(ids, t.Job)
	}
	jobs, err := e.Jobs(ctx, ids)
	if err != nil {
		return err
	}
	for _, t := range tasks {
		j, ok := jobs[t.Job]
		if !ok {
			j = Job{ID: t.Job, State: "UNKNOWN", Reason: "the controller no longer knows the job"}
		}
		e.settle(ctx, t, j)
	}
	return nil
}

// summary is the progress line of a run: how many of its jobs are in each state.
func summary(tasks []*runner.Task, jobs map[string]Job, done map[string]bool) string {
	pending, running := 0, 0
	for _, t := range tasks {
		switch {
		case done[t.Job]:
		case jobs[t.Job].State == "RUNNING" || jobs[t.Job].State == "COMPLETING":
			running++
		default:
			pending++
		}
	}
	return fmt.Sprintf("slurm: %d/%d jobs ended, %d running, %d pending", len(done), len(tasks), running, pending)
}

func describe(j Job) string {
	if j.Reason == "" || j.Reason == "None" {
		return j.State
	}
	return j.State + " (" + j.Reason + ")"
}

// settle sets a task's result from how its job ended.
func (e *Executor) settle(ctx context.Context, t *runner.Task, j Job) {
	res := t.Result
	res.Start, res.End = j.Start, j.End
	switch {
	case j.State == "COMPLETED":
		if err := e.awaitOutputs(ctx, t); err != nil {
			res.Outcome, res.Err = runner.Failed, &JobError{Stage: t.Stage.Name, Job: j, Err: err}
			return
		}
		res.Outcome = runner.Ran
	case j.Reason == "DependencyNeverSatisfied":
		// Its upstream stage failed: the stage never ran, and the
		// upstream stage's error is the run's.
		res.Outcome = runner.Cancelled
		res.Err = &JobError{Stage: t.Stage.Name, Job: j, Err: errors.New("an upstream stage failed")}
		if !j.Ended() {
			_ = e.cancel(context.WithoutCancel(ctx), []string{j.ID})
		}
	default:
		res.Outcome = runner.Failed
		je := &JobError{Stage: t.Stage.Name, Job: j, ExitCode: e.exitCode(ctx, j.ID)}
		if e.cfg.LogPath != nil {
			je.Log = e.cfg.LogPath(t.Stage)
			je.Tail = tail(je.Log, j.Start, 8)
		}
		je.Output = tail(filepath.Join(Dir(e.cfg.Root), fmt.Sprintf("%s-%s.out", t.Stage.Name, j.ID)), time.Time{}, 4)
		res.Err = je
	}
}

// awaitOutputs waits, a bounded time, for a completed job's outputs to
// show: on a shared filesystem another node's writes may take a while.
func (e *Executor) awaitOutputs(ctx context.Context, t *runner.Task) error {
	deadline := time.Now().Add(e.cfg.LatencyWait)
	for {
		var missing []string
		for _, o := range t.Stage.Outs {
			if _, err := os.Stat(filepath.Join(e.cfg.Root, filepath.FromSlash(o.Path))); err != nil {
				missing = append(missing, o.String())
			}
		}
		if len(missing) == 0 {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the job completed, but %s did not show up within %s", strings.Join(missing, ", "), e.cfg.LatencyWait)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// exitCode asks scontrol for a job's exit code ("1:0": status, signal).
func (e *Executor) exitCode(ctx context.Context, id string) string {
	out, err := e.command(context.WithoutCancel(ctx), "", "scontrol", "show", "job", "--oneliner", id)
	if err != nil {
		return "unknown"
	}
	for _, f := range strings.Fields(out) {
		if v, ok := strings.CutPrefix(f, "ExitCode="); ok {
			return v
		}
	}
	return "unknown"
}

// tail returns the last n lines of a file, if it was written since since.
func tail(name string, since time.Time, n int) []string {
	if name == "" {
		return nil
	}
	info, err := os.Stat(name)
	if err != nil || (!since.IsZero() && info.ModTime().Before(since.Add(-time.Second))) {
		return nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// JobError is a stage whose job did not succeed.
type JobError struct {
	Stage    string
	Job      Job
	ExitCode string   // as scontrol says it, status:signal
	Log      string   // the stage's log
	Tail     []string // its last lines, if the job wrote it
	Output   []string // the last lines of the job's own output
	Err      error
}

func (e *JobError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "slurm job %s %s", e.Job.ID, e.Job.State)
	if e.Job.Reason != "" && e.Job.Reason != "None" {
		fmt.Fprintf(&b, " (%s)", e.Job.Reason)
	}
	if e.ExitCode != "" {
		fmt.Fprintf(&b, ", exit code %s", e.ExitCode)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if len(e.Tail) > 0 {
		fmt.Fprintf(&b, "\n  last lines of %s:", e.Log)
		for _, l := range e.Tail {
			b.WriteString("\n    " + l)
		}
	}
	if len(e.Output) > 0 {
		b.WriteString("\n  last lines of the job's output:")
		for _, l := range e.Output {
			b.WriteString("\n    " + l)
		}
	}
	return b.String()
}

func (e *JobError) Unwrap() error { return e.Err }

// stageErrors joins the errors of the stages that failed.
func stageErrors(tasks []*runner.Task) error {
	var errs []error
	for _, t := range tasks {
		if t.Result.Outcome == runner.Failed {
			errs = append(errs, &runner.StageError{Stage: t.Stage.Name, Err: t.Result.Err})
		}
	}
	return errors.Join(errs...)
}
