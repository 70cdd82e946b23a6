package flatten

import (
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/stages/internal/estimate"
)

// resources: N·3·784 float64 values; flatten streams, so memory stays at
// its chunks.
func resources(_ pipeline.Params, in pipeline.Sizes) pipeline.Need {
	need := pipeline.Need{Memory: estimate.Slack}
	if n, ok := estimate.Rows(in, In, 3*28*28); ok {
		need.Outputs = map[string]int64{Out: estimate.NPY(8, n, 3, 28*28)}
	}
	return need
}
