// Package pictures is the pipeline stage that draws the data as the
// notebook shows it: ten images of one class, and a few triplets.
package pictures

import (
	"context"
	"fmt"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/nprand"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/plots"
	"github.com/siamese-pipeline/siamese/runner"
)

type stage struct{}

// New returns the pictures stage.
func New() runner.Stage { return stage{} }

func (stage) Spec() pipeline.Spec {
	return pipeline.Spec{
		Version: "1",
		Params: []pipeline.Param{
			{Name: "class", Default: 0, Doc: "the class samples.png shows", Range: "[0, )"},
			{Name: "triplets", Default: 5, Doc: "rows of triplets.png", Range: "[1, 100]"},
			{Name: "seed", Default: 0, Doc: "seed of the random picks", Range: "[0, 4294967295]"},
		},
		Inputs:  []string{"images.npy", "labels.npy", "triplets.arrow"},
		Outputs: []string{"samples.png", "triplets.png"},

		Resources: resources, // resources.go
	}
}

func (stage) Run(ctx context.Context, env *runner.Env) error {
	images, shape, err := artifacts.ReadNPY[uint8](env.In("images.npy"))
	if err != nil {
		return fmt.Errorf("pictures: %w", err)
	}
	labels, _, err := artifacts.ReadNPY[uint8](env.In("labels.npy"))
	if err != nil {
		return fmt.Errorf("pictures: %w", err)
	}
	if len(shape) != 3 || shape[1] != shape[2] || shape[0] != len(labels) {
		return fmt.Errorf("pictures: images.npy shape %v, want (%d, side, side)", shape, len(labels))
	}
	side := shape[1]
	image := func(i int64) []uint8 { return images[int(i)*side*side : int(i+1)*side*side] }
	rng := nprand.New(uint32(env.Params.Int("seed")))

	class := env.Params.Int("class")
	var members []int
	for i, l := range labels {
		if int(l) == class {
			members = append(members, i)
		}
	}
	if len(members) == 0 {
		return fmt.Errorf("pictures: no image of class %d", class)
	}
	var samples [][]uint8
	for range 10 {
		samples = append(samples, image(int64(rng.ChoiceFrom(members))))
	}
	if err := plots.ImageGrid(env.Out("samples.png"), samples, 1, 10, side, nil); err != nil {
		return fmt.Errorf("pictures: %w", err)
	}

	table, err := artifacts.ReadArrow(env.In("triplets.arrow"))
	if err != nil {
		return fmt.Errorf("pictures: %w", err)
	}
	var cols [3][]int64
	for i, name := range []string{"anchor", "positive", "negative"} {
		if cols[i], err = table.Int64(name); err != nil {
			return fmt.Errorf("pictures: %w", err)
		}
	}
	var grid [][]uint8
	rows := min(env.Params.Int("triplets"), table.NumRows())
	for range rows {
		t := rng.Choice(table.NumRows())
		for _, col := range cols {
			if col[t] < 0 || int(col[t]) >= len(labels) {
				return fmt.Errorf("pictures: triplet %d names image %d, which images.npy lacks", t, col[t])
			}
			grid = append(grid, image(col[t]))
		}
	}
	titles := []string{"ANCHOR", "POSITIVE", "NEGATIVE"}
	if err := plots.ImageGrid(env.Out("triplets.png"), grid, rows, 3, side, titles); err != nil {
		return fmt.Errorf("pictures: %w", err)
	}
	return nil
}
