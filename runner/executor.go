package runner

import (
	"context"
	"errors"
	"fmt"

	"github.com/siamese-pipeline/siamese/pipeline"
)

// An Executor runs the stages a run's plan chose. The runner plans where
// "siamese run" is invoked and hands the executor only the stale stages;
// the executor decides where and when each one runs, in dependency order.
// The local executor runs them in this process; another (a cluster
// scheduler's) runs each as a job of the program's stage command, which
// calls RunStage.
type Executor interface {
	// Execute runs tasks, each once the tasks it comes after have
	// succeeded, and sets each task's Result. A task whose predecessor
	// failed stays Cancelled. It returns a *StageError for a stage that
	// failed, or ctx's error once ctx is done.
	Execute(ctx context.Context, tasks []*Task) error
}

// A Scheduler is an Executor whose stages run as a cluster scheduler's
// jobs, which go on without the process that submitted them. While they
// are pending or running they hold the artifacts root through a lease
// naming them, as a run holds it through its lock.
type Scheduler interface {
	Executor
	// Name names the scheduler in the lease, such as "slurm".
	Name() string
	// Submit submits every task at once, each to start once the tasks it
	// comes after have succeeded, sets each task's Job and returns the
	// job ids. With record, a last job runs the program's record command
	// once every task's job has ended, whatever became of it; its id is
	// returned last. After each job is submitted, and before anything
	// else, it calls lease with the ids so far; if lease fails, it cancels
	// them and returns the error.
	Submit(ctx context.Context, tasks []*Task, record bool, lease func(jobs []string) error) ([]string, error)
	// Wait waits for the submitted tasks' jobs to end and sets each task's
	// Result. Once ctx is done it cancels them, all at once, and returns
	// ctx's error.
	Wait(ctx context.Context, tasks []*Task) error
	// Active returns those of jobs that are still pending or running.
	Active(ctx context.Context, jobs []string) ([]string, error)
	// Cancel cancels jobs.
	Cancel(ctx context.Context, jobs []string) error
	// Ended sets the Result of each task, whose Job is set, from how its
	// job ended.
	Ended(ctx context.Context, tasks []*Task) error
}

// Task is one stage an executor is to run.
type Task struct {
	Stage  *pipeline.Stage
	Reason string // why the stage runs
	// After names the tasks that must succeed before this one starts:
	// those of the stage's deps that run in the same run.
	After []string
	// Job is the scheduler's id of the task's job, for executors that
	// have jobs.
	Job string
	// Result is the stage's line in the run's report. The executor sets
	// its Outcome (Ran, Failed or, left as it is, Cancelled), Start, End
	// and Err.
	Result *Result
}

// tasks makes the tasks of the stages a plan runs, tying them to results.
func tasks(decisions []decision, results []Result) []*Task {
	runs := map[string]bool{}
	var out []*Task
	for i, d := range decisions {
		if !d.run {
			continue
		}
		t := &Task{Stage: d.stage, Reason: d.reason, Result: &results[i]}
		for _, dep := range d.stage.Deps {
			if runs[dep] {
				t.After = append(t.After, dep)
			}
		}
		runs[d.stage.Name] = true
		out = append(out, t)
	}
	return out
}

// RunStage runs one stage now, as a run would: into a temporary
// directory, whose outputs are then hashed, moved into place and
// recorded, with the stage's log beside its outputs. It takes no lock and
// plans nothing: it is what an executor's job runs, while the run that
// submitted the job holds the artifacts root. The stage's inputs must be
// on disk.
func (r *Runner) RunStage(ctx context.Context, name, reason string) error {
	s := r.Pipeline.Stage(name)
	if s == nil {
		return &pipeline.Error{File: r.Pipeline.File, Msg: fmt.Sprintf("no stage %q", name)}
	}
	pl := &planner{root: r.Root(), p: r.Pipeline, outs: map[string]File{}, touched: map[string]*Record{}}
	if err := pl.checkInputs(s); err != nil {
		return err
	}
	if _, err := r.runStage(ctx, s, reason); err != nil {
		return &StageError{Stage: name, Err: err}
	}
	return nil
}

// stageErrors joins the errors of the tasks that failed, as StageErrors.
func stageErrors(tasks []*Task) error {
	var errs []error
	for _, t := range tasks {
		if t.Result.Outcome == Failed && t.Result.Err != nil {
			var serr *StageError
			if errors.As(t.Result.Err, &serr) {
				errs = append(errs, t.Result.Err)
			} else {
				errs = append(errs, &StageError{Stage: t.Stage.Name, Err: t.Result.Err})
			}
		}
	}
	return errors.Join(errs...)
}
