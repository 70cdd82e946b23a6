package runner

// Recorded returns the record of stage's last successful run (its params,
// inputs and outputs), or nil if it has none: what made the stage's
// outputs now on disk. The record is a copy down to its lists of files;
// a directory's Files and the Params are shared with other readers, to be
// read, not changed.
func (r *Runner) Recorded(stage string) (*Record, error) {
	return readRecord(r.Root(), stage)
}
