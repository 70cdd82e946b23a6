package runner

import (
	"errors"
	"io/fs"
	"os"
)

// warnDamagedRecords warns about each stage record that cannot be read (a
// truncated or garbled file): such a record counts as absent, so its stage
// reruns. On a real run the file is removed, so the warning is given once.
func (r *Runner) warnDamagedRecords(dryRun bool) {
	for _, s := range r.Pipeline.Stages {
		name := recordPath(r.Root(), s.Name)
		_, err := loadRecord(name)
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			continue
		}
		r.log().Warn("stage record is damaged; treating it as absent, so the stage reruns", "file", name, "err", err)
		if !dryRun {
			_ = os.Remove(name)
		}
	}
}
