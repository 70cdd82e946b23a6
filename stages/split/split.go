// Package split is the stage that splits the flattened triplets into train
// and test sets exactly as sklearn's train_test_split(flat, np.ones(N),
// test_size=test_size, random_state=seed) does, gathering rows from the
// input file in bounded memory.
package split

import (
	"context"
	"fmt"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/nprand"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/runner"
)

// Input and outputs.
const (
	In           = "triplets_fasion_MNIST_flatten.npy"
	OutXTrain    = "X_train.npy"
	OutXTest     = "X_test.npy"
	OutTrainRows = "train_rows.npy"
	OutTestRows  = "test_rows.npy"
)

type stage struct{}

// New returns the split stage.
func New() runner.Stage { return stage{} }

func (stage) Spec() pipeline.Spec {
	return pipeline.Spec{
		Version: "1",
		Params: []pipeline.Param{
			{Name: "test_size", Default: 0.05, Doc: "fraction of the rows in the test set, in (0, 1); the test set has ceil(test_size·N) rows", Range: "(0, 1)"},
			{Name: "seed", Default: 42, Doc: "random_state of train_test_split", Range: "[0, 4294967295]"},
		},
		Inputs:  []string{In},
		Outputs: []string{OutXTrain, OutXTest, OutTrainRows, OutTestRows},

		Resources: resources, // resources.go
	}
}

func (stage) Run(ctx context.Context, env *runner.Env) error {
	seed := env.Params.Int("seed")
	in, err := artifacts.OpenNPY(env.In(In))
	if err != nil {
		return err
	}
	defer in.Close()
	shape := in.Shape()
	if in.DType() != "float64" || len(shape) < 1 {
		return fmt.Errorf("%s: %s array of shape %v, want float64 of shape (N, ...)", env.In(In), in.DType(), shape)
	}
	train, test, err := nprand.TrainTestSplit(shape[0], env.Params.Float("test_size"), uint32(seed))
	if err != nil {
		return fmt.Errorf("%s: %w", env.In(In), err)
	}
	for _, s := range []struct {
		rows      []int
		x, rowsAt string
	}{{train, OutXTrain, OutTrainRows}, {test, OutXTest, OutTestRows}} {
		if err := gather(ctx, in, s.rows, env.Out(s.x)); err != nil {
			return err
		}
		if err := artifacts.WriteNPY(env.Out(s.rowsAt), toInt64(s.rows), len(s.rows)); err != nil {
			return err
		}
	}
	env.Log.Info("split", "n", shape[0], "train", len(train), "test", len(test))
	return nil
}

func toInt64(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}
