package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/siamese-pipeline/siamese/internal/atomicfile"
)

// Lease is how the jobs of a run on a cluster scheduler hold the artifacts
// root when no process of the run may be left to hold its lock: it names
// the jobs, and the root is taken while any of them is pending or
// running. It also keeps what the run's record needs: when the run began
// and what became of the stages that were not submitted.
type Lease struct {
	Scheduler string        `json:"scheduler"`
	Start     time.Time     `json:"start"`
	Host      string        `json:"host"`
	PID       int           `json:"pid"`
	Detached  bool          `json:"detached"`
	Jobs      []string      `json:"jobs"`
	Stages    []LeaseResult `json:"stages"`
}

// LeaseResult is a stage's line in a leased run: its outcome at
// submission and, for a submitted stage, its job.
type LeaseResult struct {
	Stage   string  `json:"stage"`
	Outcome Outcome `json:"outcome"`
	Reason  string  `json:"reason,omitempty"`
	Job     string  `json:"job,omitempty"`
}

// LeaseError says that the jobs of a run on a cluster hold the root.
type LeaseError struct {
	Root      string
	Scheduler string
	Jobs      []string
	Err       error // why it could not be told whether the jobs are done
}

func (e *LeaseError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s is leased to %s jobs %s, and whether they are done cannot be told: %v",
			e.Root, e.Scheduler, strings.Join(e.Jobs, ", "), e.Err)
	}
	return fmt.Sprintf("%s jobs %s of another run hold %s; wait for them to end (or cancel them)",
		e.Scheduler, strings.Join(e.Jobs, ", "), e.Root)
}

func leasePath(root string) string { return filepath.Join(root, internalDir, "lease.json") }

// ReadLease returns the root's lease, or nil if it has none.
func ReadLease(root string) (*Lease, error) {
	data, err := os.ReadFile(leasePath(root))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var l Lease
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("lease %s: %w", leasePath(root), err)
	}
	return &l, nil
}

func writeLease(root string, l *Lease) error {
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(leasePath(root), append(data, '\n'))
}

func removeLease(root string) error {
	err := os.Remove(leasePath(root))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// checkLease refuses the root while the jobs of its lease, if it has one,
// are pending or running, and removes a lease whose jobs are all gone.
// The caller holds the lock.
func (r *Runner) checkLease(ctx context.Context) error {
	l, err := ReadLease(r.Root())
	if err != nil || l == nil {
		return err
	}
	s := r.Schedulers[l.Scheduler]
	if s == nil {
		return &LeaseError{Root: r.Root(), Scheduler: l.Scheduler, Jobs: l.Jobs, Err: errors.New("this program knows no such scheduler")}
	}
	active, err := s.Active(ctx, l.Jobs)
	if err != nil {
		return &LeaseError{Root: r.Root(), Scheduler: l.Scheduler, Jobs: l.Jobs, Err: err}
	}
	if len(active) > 0 {
		return &LeaseError{Root: r.Root(), Scheduler: l.Scheduler, Jobs: active}
	}
	if l.Detached {
		r.log().Warn("the jobs of a detached run ended without recording it", "jobs", strings.Join(l.Jobs, ","), "start", l.Start)
	}
	return removeLease(r.Root())
}

// schedule submits tasks to a scheduler and, unless detach, waits for
// them. The root stays leased to the jobs until they have ended, so that
// a submitter that dies leaves them holding it.
func (r *Runner) schedule(ctx context.Context, s Scheduler, ts []*Task, rep *Report, detach bool) error {
	host, _ := os.Hostname()
	byStage := map[string]*Task{}
	for _, t := range ts {
		byStage[t.Stage.Name] = t
	}
	// The lease names every job as soon as it is submitted, so that a
	// submitter killed while submitting leaves its jobs holding the root.
	lease := func(jobs []string) error {
		l := &Lease{Scheduler: s.Name(), Start: rep.Start, Host: host, PID: os.Getpid(), Detached: detach, Jobs: jobs}
		for _, res := range rep.Results {
			lr := LeaseResult{Stage: res.Stage, Outcome: res.Outcome, Reason: res.Reason}
			if t := byStage[res.Stage]; t != nil {
				lr.Job = t.Job
			}
			l.Stages = append(l.Stages, lr)
		}
		if err := writeLease(r.Root(), l); err != nil {
			return fmt.Errorf("lease the root to jobs %s: %w", strings.Join(jobs, ", "), err)
		}
		return nil
	}
	jobs, err := s.Submit(ctx, ts, detach, lease)
	if err != nil {
		return err
	}
	if detach {
		for _, t := range ts {
			t.Result.Outcome = Submitted
		}
		return nil
	}
	err = s.Wait(ctx, ts)
	if active, aerr := s.Active(context.WithoutCancel(ctx), jobs); aerr == nil && len(active) == 0 {
		err = errors.Join(err, removeLease(r.Root()))
	}
	return err
}

// RecordDetached records a detached run once its jobs have ended, as the
// run's last job: it rebuilds the run's report from the lease and from how
// each stage's job ended, calls finish with it while holding the lock, and
// gives the root back. job is the calling job's id; it waits a while for
// the submitter to write a lease naming it. It returns the run's error
// joined to finish's.
func (r *Runner) RecordDetached(ctx context.Context, job string, finish func(*Report, error) error) error {
	var l *Lease
	for deadline := time.Now().Add(time.Minute); ; {
		var err error
		if l, err = ReadLease(r.Root()); err != nil {
			return err
		}
		if l != nil && (job == "" || strings.Contains(","+strings.Join(l.Jobs, ",")+",", ","+job+",")) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no lease of %s names job %s", r.Root(), job)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	// The submitter may not have let go of the lock yet.
	lk, err := acquireLock(r.Root())
	for deadline := time.Now().Add(time.Minute); err != nil && time.Now().Before(deadline); {
		var lerr *LockError
		if !errors.As(err, &lerr) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		lk, err = acquireLock(r.Root())
	}
	if err != nil {
		return err
	}
	defer lk.release()
	s := r.Schedulers[l.Scheduler]
	if s == nil {
		return fmt.Errorf("lease of %s: unknown scheduler %q", r.Root(), l.Scheduler)
	}
	rep := &Report{Start: l.Start, Results: make([]Result, len(l.Stages))}
	var ts []*Task
	for i, lr := range l.Stages {
		rep.Results[i] = Result{Stage: lr.Stage, Outcome: lr.Outcome, Reason: lr.Reason}
		if lr.Job == "" {
			continue
		}
		st := r.Pipeline.Stage(lr.Stage)
		if st == nil {
			return fmt.Errorf("lease of %s: stage %q is not in %s", r.Root(), lr.Stage, r.Pipeline.File)
		}
		rep.Results[i].Outcome = Cancelled
		ts = append(ts, &Task{Stage: st, Reason: lr.Reason, Job: lr.Job, Result: &rep.Results[i]})
	}
	if err := s.Ended(ctx, ts); err != nil {
		return fmt.Errorf("how the run's jobs ended: %w", err)
	}
	runErr := stageErrors(ts)
	rep.End = time.Now()
	ferr := finish(rep, runErr)
	return errors.Join(runErr, ferr, removeLease(r.Root()))
}
