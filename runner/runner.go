// Package runner runs the stages of a pipeline in dependency order,
// independent stages at the same time. A stage is skipped while its record
// says its outputs were made from the same params, code and inputs and the
// outputs are unchanged. Outputs are written to a temporary directory and
// moved into place only when the stage succeeds, and one run at a time
// holds the artifacts root.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/siamese-pipeline/siamese/pipeline"
)

const internalDir = pipeline.Internal

// Runner runs one pipeline over its artifacts root.
type Runner struct {
	Pipeline *pipeline.Pipeline
	Stages   Registry
	Log      *slog.Logger
	// Program names the program's version in stage records.
	Program string
	// LogHandler makes the handler of each stage's own log file; nil
	// means slog's text format.
	LogHandler func(io.Writer) slog.Handler
	// Schedulers are the cluster schedulers whose jobs may hold the root
	// through a lease, by Name: the runner asks the lease's scheduler
	// whether its jobs are still pending or running.
	Schedulers map[string]Scheduler
	// Share, if set, lets this root take the outputs of a stage that
	// another root made with the same fingerprint instead of running it.
	Share Share

	// described holds, by stage name, the sources the last plan described
	// for a stage it runs (see Env.Track).
	described sync.Map
}

// Options select what a run does.
type Options struct {
	Jobs   int    // stages run at once; 0 means 1
	Force  bool   // run every selected stage, cached or not
	DryRun bool   // decide, report and run nothing
	Only   string // run just this stage, from its deps' outputs on disk
	From   string // run this stage and everything downstream of it
	// Finish, if set, is called once the stages have run (not on a dry
	// run), while the run still holds the lock, with the report and the
	// run's error; what it returns is joined to the run's error.
	Finish func(rep *Report, err error) error
	// Executor runs the stale stages; nil means in this process, Jobs at
	// a time.
	Executor Executor
	// Detach, with a Scheduler as the Executor, submits the stale stages
	// and a last job that records the run (calling the program's record
	// command, which calls RecordDetached), and returns at once.
	Detach bool
}

// Outcome is what became of a stage in a run.
type Outcome string

const (
	Ran       Outcome = "ran"
	Cached    Outcome = "cached"
	Failed    Outcome = "failed"
	Cancelled Outcome = "cancelled"
	WouldRun  Outcome = "would run"
	Submitted Outcome = "submitted" // to a scheduler, by a detached run
	Skipped   Outcome = "not selected"
)

// Result is one stage's part in a run.
type Result struct {
	Stage   string
	Outcome Outcome
	Reason  string // why it ran or would run
	Start   time.Time
	End     time.Time
	Err     error
}

// Report is what a run did, stage by stage in dependency order.
type Report struct {
	Start, End time.Time
	Results    []Result
}

// StageError says which stage failed and why.
type StageError struct {
	Stage string
	Err   error
}

func (e *StageError) Error() string { return fmt.Sprintf("stage %s failed: %v", e.Stage, e.Err) }
func (e *StageError) Unwrap() error { return e.Err }

// Root is the artifacts root.
func (r *Runner) Root() string { return r.Pipeline.Root }

func (r *Runner) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

// Run runs the pipeline. The report lists every stage, also on error.
func (r *Runner) Run(ctx context.Context, opt Options) (*Report, error) {
	rep := &Report{Start: time.Now()}
	defer func() { rep.End = time.Now() }()
	if !opt.DryRun {
		l, err := acquireLock(r.Root())
		if err != nil {
			return rep, err
		}
		defer l.release()
		if err := r.checkLease(ctx); err != nil {
			return rep, err
		}
		_ = os.RemoveAll(filepath.Join(r.Root(), internalDir, "tmp")) // left by killed runs
	}
	r.warnDamagedRecords(opt.DryRun)
	decisions, err := r.plan(opt)
	if err != nil {
		return rep, err
	}
	if err := preflight(r.Pipeline, decisions); err != nil {
		return rep, err
	}
	ex := opt.Executor
	if ex == nil {
		ex = Local(r, opt.Jobs)
	}
	s, scheduled := ex.(Scheduler)
	// A scheduler's stages run on other machines: their memory is the
	// scheduler's to check (resources.mem), not this machine's.
	if err := r.checkResources(decisions, !scheduled); err != nil {
		return rep, err
	}
	results := make([]Result, len(decisions))
	for i, d := range decisions {
		results[i] = Result{Stage: d.stage.Name, Outcome: Skipped, Reason: d.reason}
		switch {
		case d.run && opt.DryRun:
			results[i].Outcome = WouldRun
		case d.run:
			results[i].Outcome = Cancelled
		case d.rec != nil:
			results[i].Outcome = Cached
		}
	}
	rep.Results = results
	if opt.DryRun {
		return rep, nil
	}
	ts := tasks(decisions, results)
	switch {
	case opt.Detach && !scheduled:
		return rep, errors.New("only a cluster scheduler's executor can detach a run")
	case scheduled && len(ts) > 0:
		err = r.schedule(ctx, s, ts, rep, opt.Detach)
		if opt.Detach {
			return rep, err // the run's last job records it
		}
	default:
		err = ex.Execute(ctx, ts)
	}
	r.described.Clear() // the plan's descriptions are for this run's stages only
	err = interrupted(ctx, err, results)
	if opt.Finish != nil {
		rep.End = time.Now()
		err = errors.Join(err, opt.Finish(rep, err))
	}
	return rep, err
}

// plan decides what runs, stage by stage.
func (r *Runner) plan(opt Options) ([]decision, error) {
	p := r.Pipeline
	pl := &planner{root: r.Root(), p: p, selected: map[string]bool{}, forced: map[string]bool{},
		runs: map[string]bool{}, outs: map[string]File{}, touched: map[string]*Record{}}
	switch {
	case opt.Only != "" && opt.From != "":
		return nil, &pipeline.Error{File: p.File, Msg: "use --only or --from, not both"}
	case opt.Only != "" || opt.From != "":
		name, flag := opt.Only, "--only"
		if opt.From != "" {
			name, flag = opt.From, "--from"
		}
		if p.Stage(name) == nil {
			return nil, p.NoStage(flag+" "+name, name)
		}
		if p.Off(p.Stage(name)) {
			return nil, &pipeline.Error{File: p.File, Msg: fmt.Sprintf("stage %s writes the notebook's arrays, and notebook_arrays is false", name)}
		}
		sel := []*pipeline.Stage{p.Stage(name)}
		if opt.From != "" {
			sel = p.Downstream(name)
		}
		for _, s := range sel {
			pl.selected[s.Name], pl.forced[s.Name] = !p.Off(s), true
		}
	default:
		for _, s := range p.Stages {
			pl.selected[s.Name], pl.forced[s.Name] = !p.Off(s), opt.Force
		}
	}
	if !opt.DryRun {
		pl.described = map[string][]File{}
	}
	var out []decision
	for _, s := range p.Stages {
		d, err := pl.decide(s)
		if err != nil {
			return nil, err
		}
		if d.run {
			if err := pl.checkInputs(s); err != nil {
				return nil, err
			}
		}
		out = append(out, d)
	}
	if !opt.DryRun {
		for _, rec := range pl.touched {
			if !pl.runs[rec.Stage] {
				if err := writeRecord(r.Root(), rec); err != nil {
					return nil, fmt.Errorf("stage %s: update record: %w", rec.Stage, err)
				}
			}
		}
		r.described.Clear()
		for stage, files := range pl.described {
			if pl.runs[stage] {
				r.described.Store(stage, files)
			}
		}
	}
	return out, nil
}
