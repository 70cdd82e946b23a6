package triplets

import (
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/stages/internal/estimate"
)

// classes is the number of classes the estimate assumes: both datasets
// ingest knows have ten.
const classes = 10

// resources: the index of per_class·classes triplets; in memory the
// labels, the triplets' rows and index columns.
func resources(p pipeline.Params, in pipeline.Sizes) pipeline.Need {
	n := pipeline.MulSize(int64(p.Int("per_class")), classes)
	return pipeline.Need{
		Outputs: map[string]int64{
			OutIndex: pipeline.MulSize(n, 64), // id, class, three rows and three labels
		},
		Memory: pipeline.AddSize(in[InLabels],
			pipeline.MulSize(n, 3*8+2*64), // rows; the index and its Arrow copy
			estimate.Slack),
	}
}
