// Package flatten is the stage that scales the triplet images to [0, 1]
// and flattens each image: (np.load(array) / 255).reshape(N, 3, rows·cols)
// — (N, 3, 784) for Fashion-MNIST — bit for bit, streamed so that memory
// stays small for any N.
package flatten

import (
	"context"
	"fmt"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/runner"
)

// Input and output; "fasion" is the notebook's spelling.
const (
	In  = "triplets_fasion_MNIST_array.npy"
	Out = "triplets_fasion_MNIST_flatten.npy"
)

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
	if in.DType() != "uint8" || len(shape) != 4 || shape[1] != 3 || shape[2] < 1 || shape[3] < 1 {
		return fmt.Errorf("%s: %s array of shape %v, want uint8 of shape (N, 3, rows, cols)", env.In(In), in.DType(), shape)
	}
	n, pixels := shape[0], shape[2]*shape[3]
	out, err := artifacts.CreateNPY[float64](env.Out(Out), n, 3, pixels)
	if err != nil {
		return err
	}
	if err := convert(ctx, in, out, int64(n)*3*int64(pixels)); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	env.Log.Info("flattened triplets", "n", n)
	return nil
}
