package flatten

import (
	"context"
	"runtime"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/siamese-pipeline/siamese/artifacts"
)

// scale[i] is float64(i)/255 — numpy's true division of a uint8 by 255,
// exactly (multiplying by 1/255 would differ in the last bit).
var scale = func() (t [256]float64) {
	for i := range t {
		t[i] = float64(i) / 255
	}
	return t
}()

// chunkElems is how many elements one chunk holds (1 MiB of uint8 in,
// 8 MiB of float64 out).
var chunkElems = 1 << 20

type chunk struct {
	in  []uint8
	out []float64
}

// convert streams total uint8 elements of in through scale into out: a
// reader fills chunks and converts each across GOMAXPROCS goroutines
// while the writer writes the previous ones.
func convert(ctx context.Context, in *artifacts.NPYFile, out *artifacts.NPYWriter[float64], total int64) error {
	const inFlight = 3
	free := make(chan *chunk, inFlight)
	for range inFlight {
		free <- &chunk{in: make([]uint8, chunkElems), out: make([]float64, chunkElems)}
	}
	full := make(chan *chunk, inFlight)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { // reader and converter
		defer close(full)
		for off := int64(0); off < total; {
			var c *chunk
			select {
			case c = <-free:
			case <-gctx.Done():
				return gctx.Err()
			}
			k := int(min(int64(chunkElems), total-off))
			c.in, c.out = c.in[:k], c.out[:k]
			if err := artifacts.ReadNPYAt(in, c.in, off); err != nil {
				return err
			}
			scaleParallel(c.in, c.out)
			full <- c
			off += int64(k)
		}
		return nil
	})
	g.Go(func() error { // writer
		for c := range full {
			if err := gctx.Err(); err != nil {
				return err
			}
			if err := out.Write(c.out); err != nil {
				return err
			}
			c.in, c.out = c.in[:cap(c.in)], c.out[:cap(c.out)]
			free <- c
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// scaleParallel sets dst[i] = scale[src[i]], split across GOMAXPROCS
// goroutines when the slice is large.
func scaleParallel(src []uint8, dst []float64) {
	parts := runtime.GOMAXPROCS(0)
	if parts < 2 || len(src) < 1<<16 {
		scaleInto(src, dst)
		return
	}
	var wg sync.WaitGroup
	step := (len(src) + parts - 1) / parts
	for lo := 0; lo < len(src); lo += step {
		hi := min(lo+step, len(src))
		wg.Go(func() { scaleInto(src[lo:hi], dst[lo:hi]) })
	}
	wg.Wait()
}

func scaleInto(src []uint8, dst []float64) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = scale[v]
	}
}
