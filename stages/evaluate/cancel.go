package evaluate

import (
	"context"
	"runtime/debug"

	"github.com/siamese-pipeline/siamese/runner"
)

func (stage) Run(ctx context.Context, env *runner.Env) error {
	return untilDone(ctx, func() error { return run(ctx, env) })
}

// untilDone runs f and returns its error, or ctx's error as soon as ctx is
// done, leaving f to finish on its own: the scoring loops of metrics/ and
// model.Embed do not take a context yet, and a cancelled run must end
// within a second (its outputs go to a temporary directory the runner
// discards). A panic in f is f's error.
func untilDone(ctx context.Context, f func() error) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- &runner.PanicError{Value: p, Stack: debug.Stack()}
			}
		}()
		done <- f()
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// guarded is f with a panic turned into f's error, for the goroutines run
// starts (a panic there would not reach untilDone's recover).
func guarded(f func() error) func() error {
	return func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = &runner.PanicError{Value: p, Stack: debug.Stack()}
			}
		}()
		return f()
	}
}
