package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

// Resumer is implemented by the error of a stage that was interrupted
// part-way and kept enough state to pick up where it stopped: ResumesFrom
// says where, as "epoch 4".
type Resumer interface {
	ResumesFrom() string
}

// InterruptedError says a run was stopped from outside (a signal) while
// it ran, and what each stage it cut short will do on the next run.
type InterruptedError struct {
	// Cause is why the run's context was cancelled: context.Cause of it.
	Cause error
	// Notes say, stage by stage, "train will resume from epoch 4" or
	// "evaluate will rerun".
	Notes []string
}

func (e *InterruptedError) Error() string {
	msg := "interrupted"
	if e.Cause != nil && !errors.Is(e.Cause, context.Canceled) {
		msg += " (" + e.Cause.Error() + ")"
	}
	if len(e.Notes) > 0 {
		msg += ": " + strings.Join(e.Notes, ", ")
	}
	return msg
}

func (e *InterruptedError) Unwrap() error { return e.Cause }

// interrupted turns a run's error into an InterruptedError when ctx was
// cancelled, naming what each stage it cut short will do next time.
func interrupted(ctx context.Context, err error, results []Result) error {
	if ctx.Err() == nil {
		return err
	}
	ie := &InterruptedError{Cause: context.Cause(ctx)}
	for _, res := range results {
		if res.Outcome != Cancelled || res.Start.IsZero() {
			continue
		}
		var r Resumer
		if errors.As(res.Err, &r) && r.ResumesFrom() != "" {
			ie.Notes = append(ie.Notes, res.Stage+" will resume from "+r.ResumesFrom())
		} else {
			ie.Notes = append(ie.Notes, res.Stage+" will rerun")
		}
	}
	return ie
}

// PanicError is a panic inside a stage, turned into the stage's failure.
// The stack goes to the stage's log, not to the user's terminal.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return "panic: " + strings.ReplaceAll(fmt.Sprint(e.Value), "\n", " ")
}

// abandonAfter is how long a cancelled stage may take to return before
// the runner gives up waiting for it: a run must end within a second of a
// signal, even where a stage's loop does not yet watch its context.
var abandonAfter = 300 * time.Millisecond

// Guarded returns f with a panic turned into f's error, a *PanicError. A
// stage runs the goroutines it starts itself through it: runSafely cannot
// catch a panic there.
func Guarded(f func() error) func() error {
	return func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = &PanicError{Value: p, Stack: debug.Stack()}
			}
		}()
		return f()
	}
}

// runSafely runs a stage and turns a panic in its goroutine into an error
// (Guarded; a stage guards the goroutines it starts itself). Once ctx is cancelled it
// waits abandonAfter for the stage to return, and then returns without
// it: the stage's outputs go to a temporary directory that is discarded,
// and the process is about to end.
func runSafely(ctx context.Context, impl Stage, env *Env) error {
	done := make(chan error, 1)
	go func() { done <- Guarded(func() error { return impl.Run(ctx, env) })() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	select {
	case err := <-done:
		return err
	case <-time.After(abandonAfter):
		env.Log.Warn("the stage did not stop within its grace period after the cancellation; abandoned", "grace", abandonAfter)
		return ctx.Err()
	}
}

// stageFailed logs why a stage did not succeed: an interruption as a
// warning, a failure as an error, and a panic's stack in the stage's own
// log only (file), not on the terminal.
func stageFailed(ctx context.Context, log *slog.Logger, file slog.Handler, stage string, err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		err = &DiskFullError{Err: err}
	}
	var p *PanicError
	switch {
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		log.Warn("stage interrupted", "err", err)
	case errors.As(err, &p):
		log.Error("stage failed", "err", err)
		slog.New(file).Error("stage panicked", "stage", stage, "stack", string(p.Stack))
	default:
		log.Error("stage failed", "err", err)
	}
	return err
}

// testHookCommit runs after each output of a stage is moved into place,
// before the stage's record is written; tests pause there to kill a run
// in the middle of a commit.
var testHookCommit = func(stage, out string) {}

// SetTestHookCommit sets the hook that runs after each output a stage
// commits is moved into place (nil: none). It is for tests only.
func SetTestHookCommit(hook func(stage, out string)) {
	if hook == nil {
		hook = func(string, string) {}
	}
	testHookCommit = hook
}

// DiskFullError is a stage that failed because a disk filled up while it
// wrote (the runner checks the space its outputs need before a run, but
// another writer may take it). The stage's partial outputs are discarded;
// the outputs of its last successful run stay in place.
type DiskFullError struct{ Err error }

func (e *DiskFullError) Error() string {
	return fmt.Sprintf("the disk is full: %v; the last good outputs are kept", e.Err)
}

func (e *DiskFullError) Unwrap() error { return e.Err }
