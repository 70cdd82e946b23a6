package evaluate

import (
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/stages/internal/estimate"
)

// resources: the images, as bytes and as float32 for the reference and
// query embeddings; the test triplets as float32; tables of one row per
// test triplet and pair.
func resources(p pipeline.Params, in pipeline.Sizes) pipeline.Need {
	const row = 3 * 28 * 28 * 8
	test, _ := estimate.Rows(in, "X_test.npy", row)
	images := in["images.npy"]
	return pipeline.Need{
		Outputs: map[string]int64{
			"embeddings.arrow": pipeline.AddSize(pipeline.MulSize(test, 3*128*4+16), 4096),
			"scores.arrow":     pipeline.AddSize(pipeline.MulSize(test, 2*64), 4096),
			"metrics.json":     1 << 16, "roc.png": 1 << 20, "similarity_hist.png": 1 << 20, "embedding_pca.png": 1 << 20,
		},
		Memory: pipeline.AddSize(pipeline.MulSize(images, 5), in["X_test.npy"]/2,
			pipeline.MulSize(int64(p.Int("queries")), 128*4*2), estimate.Slack),
	}
}
