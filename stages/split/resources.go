package split

import (
	"math"

	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/stages/internal/estimate"
)

// resources: the flatten array again, in two parts, and their row
// numbers; split streams the rows, so memory holds the permutation.
func resources(p pipeline.Params, in pipeline.Sizes) pipeline.Need {
	const row = 3 * 28 * 28 * 8
	n, ok := estimate.Rows(in, In, row)
	if !ok {
		return pipeline.Need{Memory: estimate.Slack}
	}
	test := int64(math.Ceil(p.Float("test_size") * float64(n)))
	return pipeline.Need{
		Outputs: map[string]int64{
			OutXTrain: estimate.NPY(row, n-test), OutXTest: estimate.NPY(row, test),
			OutTrainRows: estimate.NPY(8, n-test), OutTestRows: estimate.NPY(8, test),
		},
		Memory: pipeline.AddSize(pipeline.MulSize(n, 4*8), estimate.Slack),
	}
}
