package evaluate

import (
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/stages/internal/estimate"
)

// resources: the images, as bytes and as float32 for the reference and
// query embeddings; the index; the test triplets' embeddings (they are
// gathered from the images a block at a time); tables of one row per test
// triplet and pair.
func resources(p pipeline.Params, in pipeline.Sizes) pipeline.Need {
	test, _ := estimate.Rows(in, "test_rows.npy", 8)
	images := in["images.npy"]
	return pipeline.Need{
		Outputs: map[string]int64{
			"embeddings.arrow": pipeline.AddSize(pipeline.MulSize(test, 3*128*4+16), 4096),
			"scores.arrow":     pipeline.AddSize(pipeline.MulSize(test, 2*64), 4096),
			"metrics.json":     1 << 16, "roc.png": 1 << 20, "similarity_hist.png": 1 << 20, "embedding_pca.png": 1 << 20,
		},
		Memory: pipeline.AddSize(pipeline.MulSize(images, 5), pipeline.MulSize(in["triplets.arrow"], 2),
			estimate.Sum(in, "train_rows.npy", "test_rows.npy"), pipeline.MulSize(test, 3*128*4*2),
			pipeline.MulSize(embedBlock, 3*28*28*4),
			pipeline.MulSize(int64(p.Int("queries")), 128*4*2), estimate.Slack),
	}
}
