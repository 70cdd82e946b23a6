package train

import (
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/stages/internal/estimate"
)

// resources: the images (as float32 too for the mined modes), the triplet
// index and the rows of the training and test triplets (batches are
// gathered from the images); the network, its best copy and Adam's two
// moments; a batch's activations. The outputs are the weights, the
// history and a plot.
// graphSlack is what training takes beside its data and weights: the
// training graph and its buffers, and the Go heap's headroom over them
// (measured: 130–195 MB of peak RSS with 55 MB of images, TestEstimatesMatchMeasured).
const graphSlack = 160 << 20

func resources(p pipeline.Params, in pipeline.Sizes) pipeline.Need {
	const dim = 28 * 28
	var weights, widest int64
	prev := int64(dim)
	for _, h := range p.Ints("hidden") {
		weights = pipeline.AddSize(weights, pipeline.MulSize(prev+1, int64(h), 4))
		widest = max(widest, int64(h))
		prev = int64(h)
	}
	// The index's int64 columns, and the Arrow table they are read from;
	// the row files, and three int32 image rows for each of their rows.
	data := pipeline.AddSize(in["images.npy"], pipeline.MulSize(in["triplets.arrow"], 2),
		pipeline.MulSize(estimate.Sum(in, "train_rows.npy", "test_rows.npy"), 3))
	if p.String("mining") != Fixed {
		data = pipeline.AddSize(data, pipeline.MulSize(in["images.npy"], 4))
	}
	batch := pipeline.MulSize(int64(p.Int("batch")), 3, max(widest, dim), 4, 4) // activations, gradients
	return pipeline.Need{
		Outputs: map[string]int64{
			"model/":        pipeline.AddSize(weights, 4096),
			"history.arrow": pipeline.AddSize(pipeline.MulSize(int64(p.Int("epochs")), 32), 4096),
			"loss.png":      1 << 20,
		},
		Memory: pipeline.AddSize(data, pipeline.MulSize(weights, 5), batch, convScratch(p, 28), graphSlack),
	}
}
