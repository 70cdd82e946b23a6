package pictures

import (
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/stages/internal/estimate"
)

// resources: two small PNGs; the images and the triplet index in memory.
func resources(_ pipeline.Params, in pipeline.Sizes) pipeline.Need {
	return pipeline.Need{
		Outputs: map[string]int64{"samples.png": 1 << 20, "triplets.png": 1 << 20},
		Memory:  pipeline.AddSize(pipeline.MulSize(estimate.Sum(in, "images.npy", "labels.npy", "triplets.arrow"), 2), estimate.Slack),
	}
}
