package ingest

import (
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/stages/internal/estimate"
)

// resources: the dataset's images and labels as .npy files; in memory the
// two halves as read, and the whole array written from them.
func resources(p pipeline.Params, _ pipeline.Sizes) pipeline.Need {
	ds, ok := datasets[p.String("dataset")]
	if !ok {
		return pipeline.Need{}
	}
	n := int64(ds.trainN + ds.testN)
	images := estimate.NPY(1, n, int64(ds.rows), int64(ds.cols))
	return pipeline.Need{
		Outputs: map[string]int64{OutImages: images, OutLabels: estimate.NPY(1, n), OutClasses: 4096},
		Memory:  pipeline.AddSize(pipeline.MulSize(2, images), estimate.Slack),
	}
}
