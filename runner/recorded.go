package runner

// Recorded returns the record of stage's last successful run (its params,
// inputs and outputs), or nil if it has none: what made the stage's
// outputs now on disk.
func (r *Runner) Recorded(stage string) (*Record, error) {
	return readRecord(r.Root(), stage)
}
