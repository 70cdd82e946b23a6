package triplets

import (
	"runtime"

	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/stages/internal/estimate"
)

// classes is the number of classes the estimate assumes: both datasets
// ingest knows have ten.
const classes = 10

// resources: per_class·classes triplets of three images; in memory the
// images and labels, the triplets' rows and index columns, and a class's
// worth of gathered images per worker.
func resources(p pipeline.Params, in pipeline.Sizes) pipeline.Need {
	n := pipeline.MulSize(int64(p.Int("per_class")), classes)
	pixels := int64(28 * 28)
	if images, ok := estimate.Rows(in, InLabels, 1); ok && images > 0 {
		if b, ok := in[InImages]; ok {
			pixels = max((b-estimate.NPYHeader)/images, 1)
		}
	}
	perClass := pipeline.MulSize(int64(p.Int("per_class")), 3, pixels)
	return pipeline.Need{
		Outputs: map[string]int64{
			OutArray: estimate.NPY(1, n, 3, pixels),
			OutIndex: pipeline.MulSize(n, 64), // id, class, three rows and three labels
		},
		Memory: pipeline.AddSize(estimate.Sum(in, InImages, InLabels),
			pipeline.MulSize(n, 3*8+2*64), // rows; the index and its Arrow copy
			pipeline.MulSize(int64(runtime.GOMAXPROCS(0)+1), perClass),
			estimate.Slack),
	}
}
