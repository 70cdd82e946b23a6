// Package stages gathers the pipeline's stage implementations, each in a
// package of its own, under the names pipeline.yaml uses for them.
package stages

import (
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/stages/evaluate"
	"github.com/siamese-pipeline/siamese/stages/ingest"
	"github.com/siamese-pipeline/siamese/stages/notebook"
	"github.com/siamese-pipeline/siamese/stages/pictures"
	"github.com/siamese-pipeline/siamese/stages/split"
	"github.com/siamese-pipeline/siamese/stages/train"
	"github.com/siamese-pipeline/siamese/stages/triplets"
)

// Registry returns every stage implementation by name.
func Registry() runner.Registry {
	return runner.Registry{
		"ingest":   ingest.New(),
		"triplets": triplets.New(),
		"notebook": notebook.New(),
		"split":    split.New(),
		"pictures": pictures.New(),
		"train":    train.New(),
		"evaluate": evaluate.New(),
	}
}
