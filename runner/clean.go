package runner

import (
	"context"
	"os"
	"path/filepath"
)

// Clean removes every stage's outputs and logs, and the runner's records,
// checkpoints, caches and temporary files. The lock file stays.
func (r *Runner) Clean() error {
	l, err := acquireLock(r.Root())
	if err != nil {
		return err
	}
	defer l.release()
	if err := r.checkLease(context.Background()); err != nil {
		return err
	}
	for _, s := range r.Pipeline.Stages {
		if err := os.RemoveAll(r.LogPath(s)); err != nil {
			return err
		}
		for _, o := range s.Outs {
			if err := os.RemoveAll(filepath.Join(r.Root(), filepath.FromSlash(o.Path))); err != nil {
				return err
			}
		}
	}
	for _, d := range []string{"stages", "state", "cache", "tmp", "logs", "slurm"} {
		if err := os.RemoveAll(filepath.Join(r.Root(), internalDir, d)); err != nil {
			return err
		}
	}
	return nil
}
