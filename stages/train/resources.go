package train

import (
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/stages/internal/estimate"
)

// resources: the float64 triplets held as float32; the network, its best
// copy and Adam's two moments; a batch's activations. The outputs are the
// weights, the history and a plot.
func resources(p pipeline.Params, in pipeline.Sizes) pipeline.Need {
	const dim = 28 * 28
	var weights, widest int64
	prev := int64(dim)
	for _, h := range p.Ints("hidden") {
		weights = pipeline.AddSize(weights, pipeline.MulSize(prev+1, int64(h), 4))
		widest = max(widest, int64(h))
		prev = int64(h)
	}
	data := estimate.Sum(in, "X_train.npy", "X_test.npy") / 2
	batch := pipeline.MulSize(int64(p.Int("batch")), 3, max(widest, dim), 4, 4) // activations, gradients
	return pipeline.Need{
		Outputs: map[string]int64{
			"model/":        pipeline.AddSize(weights, 4096),
			"history.arrow": pipeline.AddSize(pipeline.MulSize(int64(p.Int("epochs")), 32), 4096),
			"loss.png":      1 << 20,
		},
		Memory: pipeline.AddSize(data, pipeline.MulSize(weights, 5), batch, estimate.Slack),
	}
}
