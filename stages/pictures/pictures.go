// Package pictures is the pipeline stage that draws the data as the
// notebook shows it: ten images of one class, and a few triplets.
package pictures

import (
	"context"
	"fmt"
	"os"
	"strings"

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
		Version: "2", // 2: class names on both pictures
		Params: []pipeline.Param{
			{Name: "class", Default: 0, Doc: "the class samples.png shows", Range: "[0, )"},
			{Name: "triplets", Default: 5, Doc: "rows of triplets.png", Range: "[1, 100]"},
			{Name: "seed", Default: 0, Doc: "seed of the random picks", Range: "[0, 4294967295]"},
		},
		Inputs:  []string{"images.npy", "labels.npy", "classes.txt", "triplets.arrow"},
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
	data, err := os.ReadFile(env.In("classes.txt"))
	if err != nil {
		return fmt.Errorf("pictures: %w", err)
	}
	names := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
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
	if err := plots.ImageGrid(env.Out("samples.png"), samples, 1, 10, side,
		samplesText(names, class)); err != nil {
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
	var ids []int64
	rows := min(env.Params.Int("triplets"), table.NumRows())
	for range rows {
		t := rng.Choice(table.NumRows())
		for _, col := range cols {
			if col[t] < 0 || int(col[t]) >= len(labels) {
				return fmt.Errorf("pictures: triplet %d names image %d, which images.npy lacks", t, col[t])
			}
			grid = append(grid, image(col[t]))
			ids = append(ids, col[t])
		}
	}
	if err := plots.ImageGrid(env.Out("triplets.png"), grid, rows, 3, side, tripletText(names, labels, ids)); err != nil {
		return fmt.Errorf("pictures: %w", err)
	}
	return nil
}

// samplesText heads samples.png with the class it shows.
func samplesText(names []string, class int) plots.GridText {
	return plots.GridText{Heading: fmt.Sprintf("Class %d: %s", class, className(names, class))}
}

// tripletText heads triplets.png's columns and labels each image (ids are
// rows of images.npy, anchor, positive, negative, row by row) with its
// class's name.
func tripletText(names []string, labels []uint8, ids []int64) plots.GridText {
	t := plots.GridText{Columns: []string{"ANCHOR", "POSITIVE", "NEGATIVE"}}
	for _, id := range ids {
		t.Labels = append(t.Labels, className(names, int(labels[id])))
	}
	return t
}

// className is names[c], or "class c" where classes.txt does not name it.
func className(names []string, c int) string {
	if c >= 0 && c < len(names) && names[c] != "" {
		return names[c]
	}
	return fmt.Sprintf("class %d", c)
}
