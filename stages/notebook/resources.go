package notebook

import (
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/stages/internal/estimate"
)

// resources: the triplets' images as uint8 and as float64, twice over
// (flat, then X_train and X_test); in memory the images, the index and
// the rows, and three batches in flight per array.
func resources(_ pipeline.Params, in pipeline.Sizes) pipeline.Need {
	need := pipeline.Need{Memory: pipeline.AddSize(estimate.Sum(in, InImages, InTrainRows, InTestRows),
		pipeline.MulSize(in[InIndex], 2), int64(4*batchBytes), estimate.Slack)}
	train, ok1 := estimate.Rows(in, InTrainRows, 8)
	test, ok2 := estimate.Rows(in, InTestRows, 8)
	if !ok1 || !ok2 {
		return need
	}
	const pixels = 28 * 28
	n := train + test
	need.Outputs = map[string]int64{
		OutArray: estimate.NPY(1, n, 3, pixels), OutFlat: estimate.NPY(8, n, 3, pixels),
		OutXTrain: estimate.NPY(8, train, 3, pixels), OutXTest: estimate.NPY(8, test, 3, pixels),
	}
	return need
}
