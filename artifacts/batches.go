package artifacts

import (
	"context"

	"golang.org/x/sync/errgroup"
)

// WriteBatches writes n batches to w in order. fill(i, buf) produces
// batch i in buf, which holds size elements, and returns the part it
// filled. Batches are filled on one goroutine, in order, while earlier
// ones are being written; three buffers are reused, so memory stays
// bounded however large the array. It stops at ctx's cancellation.
func WriteBatches[T Elem](ctx context.Context, w *NPYWriter[T], n, size int, fill func(i int, buf []T) ([]T, error)) error {
	const inFlight = 3
	free := make(chan []T, inFlight)
	for range inFlight {
		free <- make([]T, size)
	}
	full := make(chan []T, inFlight)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { // filler
		defer close(full)
		for i := range n {
			var buf []T
			select {
			case buf = <-free:
			case <-gctx.Done():
				return gctx.Err()
			}
			filled, err := fill(i, buf)
			if err != nil {
				return err
			}
			full <- filled
		}
		return nil
	})
	g.Go(func() error { // writer
		for buf := range full {
			if err := gctx.Err(); err != nil {
				return err
			}
			if err := w.Write(buf); err != nil {
				return err
			}
			free <- buf[:cap(buf)]
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}
