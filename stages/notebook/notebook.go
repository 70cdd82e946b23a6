// Package notebook is the stage that writes the notebook's arrays, for
// Python readers, at the notebook's paths and byte for byte as numpy and
// sklearn write them: the triplets' images (uint8, (N, 3, rows, cols)),
// the same flattened and scaled by 1/255 (float64, (N, 3, rows·cols)), and
// X_train and X_test, the flattened triplets at the split's rows. Nothing
// in the pipeline reads them (train and evaluate gather their batches
// from the images and the rows), so the stage runs beside training, and a
// pipeline's notebook_arrays: false leaves it out.
package notebook

import (
	"context"
	"fmt"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/stages/internal/tripletset"
)

// Inputs and outputs; "fasion" is the notebook's spelling.
const (
	InImages    = "images.npy"
	InIndex     = "triplets.arrow"
	InTrainRows = "train_rows.npy"
	InTestRows  = "test_rows.npy"
	OutArray    = "triplets_fasion_MNIST_array.npy"
	OutFlat     = "triplets_fasion_MNIST_flatten.npy"
	OutXTrain   = "X_train.npy"
	OutXTest    = "X_test.npy"
)

// batchBytes bounds the float64 rows of one batch; three batches of an
// array are in flight at once.
var batchBytes = 8 << 20

type stage struct{}

// New returns the notebook stage.
func New() runner.Stage { return stage{} }

func (stage) Spec() pipeline.Spec {
	return pipeline.Spec{
		Version:        "1",
		Inputs:         []string{InImages, InIndex, InTrainRows, InTestRows},
		Outputs:        []string{OutArray, OutFlat, OutXTrain, OutXTest},
		NotebookArrays: true,

		Resources: resources, // resources.go
	}
}

func (stage) Run(ctx context.Context, env *runner.Env) error {
	im, ix, _, err := tripletset.Read(env.In(InImages), env.In(InIndex))
	if err != nil {
		return err
	}
	var train, test []int64
	if train, err = tripletset.ReadRows(env.In(InTrainRows), ix.Len()); err != nil {
		return err
	}
	if test, err = tripletset.ReadRows(env.In(InTestRows), ix.Len()); err != nil {
		return err
	}
	all := make([]int64, ix.Len())
	for i := range all {
		all[i] = int64(i)
	}
	g := gatherer{im: im, ix: ix}
	// The uint8 array keeps the images' shape; the others are flat.
	if err := write(ctx, env.Out(OutArray), append([]int{len(all), 3}, im.Shape[1:]...), g, all, copyInto); err != nil {
		return err
	}
	for _, o := range []struct {
		path string
		rows []int64
	}{{env.Out(OutFlat), all}, {env.Out(OutXTrain), train}, {env.Out(OutXTest), test}} {
		if err := write(ctx, o.path, []int{len(o.rows), 3, im.Pixels}, g, o.rows, scaleParallel); err != nil {
			return err
		}
	}
	env.Log.Info("wrote the notebook's arrays", "triplets", len(all), "train", len(train), "test", len(test))
	return nil
}

func copyInto(src, dst []uint8) { copy(dst, src) }

// gatherer copies the images of triplets into a batch.
type gatherer struct {
	im tripletset.Images
	ix tripletset.Index
}

// gather writes the three images of each of rows, one after the other,
// into raw.
func (g gatherer) gather(rows []int64, raw []uint8) {
	p := g.im.Pixels
	for s, r := range rows {
		for k, img := range [3]int64{g.ix.Anchor[r], g.ix.Positive[r], g.ix.Negative[r]} {
			copy(raw[(3*s+k)*p:(3*s+k+1)*p], g.im.Data[int(img)*p:int(img+1)*p])
		}
	}
}

// write streams the triplets at rows into a new .npy at path of the given
// shape, each batch gathered as bytes and converted by conv.
func write[T uint8 | float64](ctx context.Context, path string, shape []int, g gatherer, rows []int64, conv func([]uint8, []T)) error {
	w, err := artifacts.CreateNPY[T](path, shape...)
	if err != nil {
		return err
	}
	row := 3 * g.im.Pixels
	per := max(1, batchBytes/(8*row))
	n := (len(rows) + per - 1) / per
	raw := make([]uint8, per*row) // fill runs on one goroutine
	err = artifacts.WriteBatches(ctx, w, n, per*row, func(i int, buf []T) ([]T, error) {
		batch := rows[i*per : min((i+1)*per, len(rows))]
		g.gather(batch, raw)
		k := len(batch) * row
		conv(raw[:k], buf[:k])
		return buf[:k], nil
	})
	if err != nil {
		w.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return w.Close()
}
