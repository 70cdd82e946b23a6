package split

import (
	"math"

	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/stages/internal/estimate"
)

// indexRow is the least one triplet takes in triplets.arrow: five int64
// columns and three uint8 labels; so the file's size over it bounds the
// number of triplets from above.
const indexRow = 5*8 + 3

// resources: the row numbers of both parts; in memory the index's Arrow
// table and its anchor column, and the permutation.
func resources(p pipeline.Params, in pipeline.Sizes) pipeline.Need {
	n, ok := estimate.Rows(in, In, indexRow)
	if !ok {
		return pipeline.Need{Memory: estimate.Slack}
	}
	test := int64(math.Ceil(p.Float("test_size") * float64(n)))
	return pipeline.Need{
		Outputs: map[string]int64{
			OutTrainRows: estimate.NPY(8, n-test), OutTestRows: estimate.NPY(8, test),
		},
		Memory: pipeline.AddSize(in[In], pipeline.MulSize(n, 4*8), estimate.Slack),
	}
}
