package runner

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// local is the executor that runs stages in this process: at most jobs
// at a time, each once the stages it comes after have succeeded.
type local struct {
	r    *Runner
	jobs int
	cpus cpuShare
}

// Local returns the executor that runs stages in this process, jobs at a
// time. A stage's resources.cpus caps its thread count (GOMAXPROCS).
func Local(r *Runner, jobs int) Executor {
	return &local{r: r, jobs: max(jobs, 1), cpus: cpuShare{running: map[*Task]int{}}}
}

// testHookStageReturn runs after a stage's goroutine has told its
// dependents it is done, and before it returns its error to the errgroup.
var testHookStageReturn = func() {}

func (l *local) Execute(ctx context.Context, tasks []*Task) error {
	slots := make(chan struct{}, l.jobs)
	done := map[string]chan struct{}{}
	byName := map[string]*Task{}
	for _, t := range tasks {
		done[t.Stage.Name] = make(chan struct{})
		byName[t.Stage.Name] = t
	}
	g, ctx := errgroup.WithContext(ctx)
	for _, t := range tasks {
		g.Go(func() error {
			defer testHookStageReturn()
			defer close(done[t.Stage.Name])
			for _, dep := range t.After {
				select {
				case <-done[dep]:
				case <-ctx.Done():
					return ctx.Err()
				}
				// A dep that did not succeed leaves this stage cancelled;
				// the dep's own error is the run's.
				if !succeeded(byName[dep].Result.Outcome) {
					return nil
				}
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			defer func() { <-slots }()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			l.cpus.start(t)
			defer l.cpus.end(t)
			res := t.Result
			res.Start = time.Now()
			outcome, err := l.r.runStage(ctx, t.Stage, t.Reason)
			res.End = time.Now()
			if err != nil {
				res.Outcome, res.Err = Failed, err
				if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
					res.Outcome = Cancelled
				}
				return &StageError{Stage: t.Stage.Name, Err: err}
			}
			res.Outcome = outcome
			return nil
		})
	}
	return g.Wait()
}

// cpuShare sets GOMAXPROCS, while stages that declare resources.cpus run,
// to the most that any running stage asks for; a stage that declares
// none asks for every CPU the process started with.
type cpuShare struct {
	mu      sync.Mutex
	initial int
	running map[*Task]int
}

func (c *cpuShare) start(t *Task) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.running) == 0 {
		c.initial = runtime.GOMAXPROCS(0)
	}
	c.running[t] = t.Stage.Resources.CPUs
	c.apply()
}

func (c *cpuShare) end(t *Task) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.running, t)
	c.apply()
}

func (c *cpuShare) apply() {
	want := 0
	for _, n := range c.running {
		if n == 0 {
			n = c.initial
		}
		want = max(want, n)
	}
	if len(c.running) == 0 {
		want = c.initial
	}
	if want > 0 && want != runtime.GOMAXPROCS(0) {
		runtime.GOMAXPROCS(want)
	}
}
