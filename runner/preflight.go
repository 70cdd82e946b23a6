package runner

import (
	"fmt"

	"github.com/siamese-pipeline/siamese/pipeline"
)

// preflight asks each stage that is to run whether what its params point
// at outside the pipeline (its Spec's Preflight) is there, before any
// stage runs: a run, a dry run and status all stop at the first mistake,
// as a mistake in the pipeline's settings.
func preflight(p *pipeline.Pipeline, decisions []decision) error {
	for _, d := range decisions {
		check := d.stage.Spec.Preflight
		if !d.run || check == nil {
			continue
		}
		if err := check(d.stage.Params); err != nil {
			return &pipeline.Error{File: p.File, Msg: fmt.Sprintf("stage %s: %v", d.stage.Name, err)}
		}
	}
	return nil
}
