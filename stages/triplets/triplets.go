// Package triplets is the stage that draws (anchor, positive, negative)
// triplets per class, as the notebook does, and writes their index: the
// rows of the images each triplet takes (the notebook stage gathers the
// images themselves into the notebook's array).
package triplets

import (
	"context"
	"fmt"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/runner"
)

// Inputs and outputs. The misspelling "fasion" is the notebook's.
const (
	InImages    = "images.npy"
	InLabels    = "labels.npy"
	OutIndex    = "triplets.arrow"
	RNGNumpy    = "numpy"
	RNGPerClass = "per-class"
)

type stage struct{}

// New returns the triplets stage.
func New() runner.Stage { return stage{} }

func (stage) Spec() pipeline.Spec {
	return pipeline.Spec{
		Version: "2",
		Params: []pipeline.Param{
			{Name: "per_class", Default: 3000, Doc: "triplets drawn per class", Range: "[1, )"},
			{Name: "seed", Default: 42, Doc: "random seed (np.random.seed)", Range: "[0, 4294967295]"},
			{Name: "rng", Default: RNGNumpy, Doc: `"numpy": one stream drawn exactly as the notebook's loop after np.random.seed(seed); "per-class": an independent stream per class, drawn in parallel`, Choices: []string{RNGNumpy, RNGPerClass}},
		},
		Inputs:  []string{InImages, InLabels},
		Outputs: []string{OutIndex},

		Resources: resources, // resources.go
	}
}

func (stage) Run(ctx context.Context, env *runner.Env) error {
	perClass, seed, rng := env.Params.Int("per_class"), env.Params.Int("seed"), env.Params.String("rng")
	images, err := artifacts.OpenNPY(env.In(InImages)) // its shape, to check the labels against
	if err != nil {
		return err
	}
	shape := images.Shape()
	images.Close()
	labels, lshape, err := artifacts.ReadNPY[uint8](env.In(InLabels))
	if err != nil {
		return err
	}
	if len(shape) != 3 || len(lshape) != 1 || shape[0] != lshape[0] {
		return fmt.Errorf("images %v and labels %v: want shapes (n, rows, cols) and (n,)", shape, lshape)
	}
	classes, err := classIndices(labels)
	if err != nil {
		return fmt.Errorf("%s: %w", env.In(InLabels), err)
	}
	t, err := draw(ctx, classes, perClass, uint32(seed), rng)
	if err != nil {
		return err
	}
	env.Log.Info("drew triplets", "classes", len(classes), "per_class", perClass, "rng", rng, "seed", seed)
	if err := ctx.Err(); err != nil {
		return err
	}
	return t.writeIndex(env.Out(OutIndex), labels)
}
