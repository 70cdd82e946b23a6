// Package split is the stage that splits the triplets into training and
// test triplets exactly as sklearn's train_test_split(flat, np.ones(N),
// test_size=test_size, random_state=seed) splits the notebook's flattened
// triplets: it writes the rows of triplets.arrow that each part holds, and
// needs nothing of the triplets but their number. (The notebook's X_train
// and X_test, the flattened triplets at these rows, are the notebook
// stage's.)
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
	In           = "triplets.arrow"
	OutTrainRows = "train_rows.npy"
	OutTestRows  = "test_rows.npy"
)

type stage struct{}

// New returns the split stage.
func New() runner.Stage { return stage{} }

func (stage) Spec() pipeline.Spec {
	return pipeline.Spec{
		Version: "2",
		Params: []pipeline.Param{
			{Name: "test_size", Default: 0.05, Doc: "fraction of the rows in the test set, in (0, 1); the test set has ceil(test_size·N) rows", Range: "(0, 1)"},
			{Name: "seed", Default: 42, Doc: "random_state of train_test_split", Range: "[0, 4294967295]"},
		},
		Inputs:  []string{In},
		Outputs: []string{OutTrainRows, OutTestRows},

		Resources: resources, // resources.go
	}
}

func (stage) Run(ctx context.Context, env *runner.Env) error {
	table, err := artifacts.ReadArrow(env.In(In))
	if err != nil {
		return err
	}
	anchor, err := table.Int64("anchor")
	if err != nil {
		return fmt.Errorf("%s: %w", env.In(In), err)
	}
	n := len(anchor)
	train, test, err := nprand.TrainTestSplit(n, env.Params.Float("test_size"), uint32(env.Params.Int("seed")))
	if err != nil {
		return fmt.Errorf("%s: %w", env.In(In), err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, s := range []struct {
		rows []int
		out  string
	}{{train, OutTrainRows}, {test, OutTestRows}} {
		if err := artifacts.WriteNPY(env.Out(s.out), toInt64(s.rows), len(s.rows)); err != nil {
			return err
		}
	}
	env.Log.Info("split", "n", n, "train", len(train), "test", len(test))
	return nil
}

func toInt64(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}
