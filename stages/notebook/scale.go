package flatten

import (
	"context"
	"runtime"
	"sync"

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

// convert streams total uint8 elements of in through scale into out:
// chunks are read and converted across GOMAXPROCS goroutines while the
// writer writes the previous ones.
func convert(ctx context.Context, in *artifacts.NPYFile, out *artifacts.NPYWriter[float64], total int64) error {
	raw := make([]uint8, chunkElems) // fill runs on one goroutine
	n := int((total + int64(chunkElems) - 1) / int64(chunkElems))
	return artifacts.WriteBatches(ctx, out, n, chunkElems, func(i int, buf []float64) ([]float64, error) {
		off := int64(i) * int64(chunkElems)
		k := int(min(int64(chunkElems), total-off))
		if err := artifacts.ReadNPYAt(in, raw[:k], off); err != nil {
			return nil, err
		}
		scaleParallel(raw[:k], buf[:k])
		return buf[:k], nil
	})
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
