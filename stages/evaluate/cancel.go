package evaluate

import (
	"context"

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
	go func() { done <- runner.Guarded(f)() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
