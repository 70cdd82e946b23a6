// Package flatten is the stage that scales the triplet images to [0, 1]
// and flattens each image: (np.load(array) / 255).reshape(N, 3, 784),
// bit for bit, streamed so that memory stays small for any N.
package flatten

import (
	"context"
	"fmt"
	"slices"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/runner"
)

// Input and output; "fasion" is the notebook's spelling.
const (
	In  = "triplets_fasion_MNIST_array.npy"
	Out = "triplets_fasion_MNIST_flatten.npy"
)

// wantShape is the shape of the input past its first axis.
var wantShape = []int{3, 28, 28}

type stage struct{}

// New returns the flatten stage.
func New() runner.Stage { return stage{} }

func (stage) Spec() pipeline.Spec {
	return pipeline.Spec{
		Version: "1",
		Inputs:  []string{In},
		Outputs: []string{Out},

		Resources: resources, // resources.go
	}
}

func (stage) Run(ctx context.Context, env *runner.Env) error {
	in, err := artifacts.OpenNPY(env.In(In))
	if err != nil {
		return err
	}
	defer in.Close()
	shape := in.Shape()
	if in.DType() != "uint8" || len(shape) != 4 || !slices.Equal(shape[1:], wantShape) {
		return fmt.Errorf("%s: %s array of shape %v, want uint8 of shape (N, 3, 28, 28)", env.In(In), in.DType(), shape)
	}
	n := shape[0]
	out, err := artifacts.CreateNPY[float64](env.Out(Out), n, 3, 28*28)
	if err != nil {
		return err
	}
	if err := convert(ctx, in, out, int64(n)*3*28*28); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	env.Log.Info("flattened triplets", "n", n)
	return nil
}
