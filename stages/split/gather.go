package split

import (
	"context"
	"runtime"
	"sync"

	"github.com/siamese-pipeline/siamese/artifacts"
)

// batchBytes bounds one batch of gathered rows; at most three batches are
// alive at once.
var batchBytes = 8 << 20

// gather writes rows of in (in the order given) to a new .npy at path, of
// shape (len(rows), in.Shape()[1:]...). Batches of rows are read with
// ReadNPYAt, split across GOMAXPROCS readers, while the previous batch is
// written.
func gather(ctx context.Context, in *artifacts.NPYFile, rows []int, path string) error {
	shape := in.Shape()
	rowElems := 1
	for _, d := range shape[1:] {
		rowElems *= d
	}
	w, err := artifacts.CreateNPY[float64](path, append([]int{len(rows)}, shape[1:]...)...)
	if err != nil {
		return err
	}
	if err := gatherInto(ctx, in, rows, rowElems, w); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

func gatherInto(ctx context.Context, in *artifacts.NPYFile, rows []int, rowElems int, w *artifacts.NPYWriter[float64]) error {
	perBatch := max(1, batchBytes/(8*max(rowElems, 1)))
	n := (len(rows) + perBatch - 1) / perBatch
	return artifacts.WriteBatches(ctx, w, n, perBatch*rowElems, func(i int, buf []float64) ([]float64, error) {
		batch := rows[i*perBatch : min((i+1)*perBatch, len(rows))]
		buf = buf[:len(batch)*rowElems]
		return buf, readRows(in, batch, rowElems, buf)
	})
}

// readRows reads each of rows into its place in buf, split across
// GOMAXPROCS goroutines (NPYFile is safe for concurrent use).
func readRows(in *artifacts.NPYFile, rows []int, rowElems int, buf []float64) error {
	parts := min(runtime.GOMAXPROCS(0), len(rows))
	step := (len(rows) + parts - 1) / parts
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for p := 0; p*step < len(rows); p++ {
		wg.Go(func() {
			for i := p * step; i < min((p+1)*step, len(rows)); i++ {
				if err := artifacts.ReadNPYAt(in, buf[i*rowElems:(i+1)*rowElems], int64(rows[i])*int64(rowElems)); err != nil {
					errs[p] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
