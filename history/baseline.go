package history

import "slices"

// Dataset is what a run's model learned from: the data's tracked source
// (a folder, or the directory of the dataset's files) and its classes,
// in label order.
type Dataset struct {
	Source  string
	Classes []string
}

// Same reports whether d and e name the same source and classes. Two nil
// datasets (pipelines that make no model to score with) are the same.
func (d *Dataset) Same(e *Dataset) bool {
	if d == nil || e == nil {
		return d == e
	}
	return d.Source == e.Source && slices.Equal(d.Classes, e.Classes)
}

// Baseline returns the last of runs (oldest first, as List returns them)
// that passed a quality gate and that came from the same pipeline file
// and the same dataset: the run whose metrics the gate's max_drop
// compares with. Runs of another dataset or pipeline file, and runs
// recorded without a pipeline file, are no baseline. It returns nil if none is.
func Baseline(runs []*Run, file string, ds *Dataset) *Run {
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		if r.Outcome == OK && len(r.Gate) > 0 && r.File != "" && r.File == file && r.Dataset.Same(ds) {
			return r
		}
	}
	return nil
}
