package runner

import (
	"io/fs"
	"path/filepath"

	"github.com/siamese-pipeline/siamese/internal/atomicfile"
	"github.com/siamese-pipeline/siamese/pipeline"
)

// The runner writes a stage's record only once the outputs it vouches for
// are on disk: every file and directory of the outputs is fsynced before
// they are moved into place, and the directories they are moved into
// after. A power loss then leaves either no record (the stage reruns) or
// a record whose outputs are whole.

// syncTree fsyncs every output of a stage in its temporary directory:
// each file, and each directory output with everything under it. It
// returns the bytes synced.
func syncTree(outs []pipeline.Out, outputs map[string]string) (int64, error) {
	var total int64
	for _, o := range outs {
		err := filepath.WalkDir(outputs[o.Name()], func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				if info, err := d.Info(); err == nil {
					total += info.Size()
				}
			}
			if d.IsDir() || d.Type().IsRegular() {
				return atomicfile.SyncPath(p)
			}
			return nil
		})
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// syncParents fsyncs the directories a stage's outputs were renamed into,
// and the directories above them up to the root, which the commit may
// have created.
func syncParents(root string, outs []pipeline.Out) error {
	seen := map[string]bool{}
	for _, o := range outs {
		dir := filepath.Dir(filepath.Join(root, filepath.FromSlash(o.Path)))
		for !seen[dir] {
			seen[dir] = true
			if err := atomicfile.SyncPath(dir); err != nil {
				return err
			}
			if rel, err := filepath.Rel(root, dir); err != nil || rel == "." {
				break
			}
			dir = filepath.Dir(dir)
		}
	}
	return nil
}
