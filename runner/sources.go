package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Tracked sources are the files a stage reads from outside the artifacts
// root (a dataset download, a folder of images), like a DVC dependency.
// A stage reports each with Env.Track as it reads it; the stage's record
// keeps every file's path, size, mtime and content hash, and a later plan
// reruns the stage when one of them changed, appeared or disappeared.
// Sizes and mtimes are the fast path: a file is hashed again only when
// either differs, and a file touched but not changed keeps the stage up
// to date while its record takes the new mtime (so it is hashed once).

// tracked is what a running stage has reported through Track.
type tracked struct {
	mu    sync.Mutex
	files []File // by absolute path, each path once
}

// Track reports that the stage reads path, a file or a directory (then
// every file under it, recursively, but for hidden names: those beginning
// with ".", as .DS_Store or .ipynb_checkpoints/) from outside the
// artifacts root. It
// describes path now, or takes the description this run's plan made of
// it (before any stage ran), so a stage calls it before it reads it: a
// change made after the description is seen by the next run. A stage that
// reads a file whose bytes are not those described (ingest does) should
// fail rather than record the description with outputs of other bytes.
// Track may be called from several goroutines.
func (e *Env) Track(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("track %s: %w", path, err)
	}
	var f File
	if i := slices.IndexFunc(e.fresh, func(g File) bool { return g.Path == abs }); i >= 0 {
		f = e.fresh[i]
	} else {
		var old *File
		if i := slices.IndexFunc(e.previous, func(g File) bool { return g.Path == abs }); i >= 0 {
			old = &e.previous[i] // files of the same size and mtime keep their hashes
		}
		if f, err = describeSource(abs, old); err != nil {
			return fmt.Errorf("track %s: %w", path, err)
		}
	}
	e.tracked.mu.Lock()
	defer e.tracked.mu.Unlock()
	e.tracked.files = slices.DeleteFunc(e.tracked.files, func(g File) bool { return g.Path == abs })
	e.tracked.files = append(e.tracked.files, f)
	return nil
}

// Source returns the description Track made of path: a file's size,
// mtime and content hash, or a directory's with its files' (by
// slash-separated path inside it, sorted). A stage that keeps state
// about the files it read (a cache of decoded images) can key it by
// these hashes rather than reading the files to know them. ok is false
// if path was not tracked.
func (e *Env) Source(path string) (f File, ok bool) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return File{}, false
	}
	e.tracked.mu.Lock()
	defer e.tracked.mu.Unlock()
	i := slices.IndexFunc(e.tracked.files, func(g File) bool { return g.Path == abs })
	if i < 0 {
		return File{}, false
	}
	return e.tracked.files[i], true
}

// Tracked returns the absolute paths the stage reported with Track,
// sorted.
func (e *Env) Tracked() []string {
	var paths []string
	for _, f := range e.sources() {
		paths = append(paths, f.Path)
	}
	return paths
}

// sources returns the descriptions of the tracked paths, sorted by path.
func (e *Env) sources() []File {
	e.tracked.mu.Lock()
	defer e.tracked.mu.Unlock()
	files := slices.Clone(e.tracked.files)
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files
}

// describeSource describes a tracked path as describeFile does, reusing
// old's hashes of files whose size and mtime are unchanged, except that
// under a directory hidden names are left out.
func describeSource(path string, old *File) (File, error) {
	return describe(path, path, old, true)
}

// checkSources compares the sources in a stage's record with the files on
// disk. It returns why the stage must rerun ("source changed: NAME",
// "source added: NAME", "source removed: NAME"), or "" when every source
// holds the same bytes. Sources whose mtimes changed but not their
// contents are updated in rec, and rec is marked touched.
func (pl *planner) checkSources(rec *Record) string {
	var changes []string
	touched := false
	described := make([]File, 0, len(rec.Sources))
	for i := range rec.Sources {
		old := &rec.Sources[i]
		cur, err := describeSource(old.Path, old)
		if errors.Is(err, fs.ErrNotExist) {
			changes = append(changes, "source removed: "+filepath.Base(old.Path))
			continue
		}
		if err != nil {
			changes = append(changes, fmt.Sprintf("source unreadable: %s (%v)", filepath.Base(old.Path), err))
			continue
		}
		described = append(described, cur)
		if diff := sourceChanges(*old, cur); len(diff) > 0 {
			changes = append(changes, diff...)
			continue
		}
		if !sameStat(cur, *old) {
			*old = cur
			touched = true
		}
	}
	if pl.described != nil {
		pl.described[rec.Stage] = described
	}
	switch {
	case len(changes) == 1:
		return changes[0]
	case len(changes) > 1:
		return fmt.Sprintf("%s (and %d more)", changes[0], len(changes)-1)
	}
	if touched {
		pl.touched[rec.Stage] = rec
	}
	return ""
}

// sourceChanges lists how cur differs from old in content: the source
// itself for a file, each file added, removed or changed for a directory,
// named by the directory's base name and the file's path inside it.
func sourceChanges(old, cur File) []string {
	base := filepath.Base(old.Path)
	if old.Dir != cur.Dir || !old.Dir {
		if sameContent(old, cur) {
			return nil
		}
		return []string{"source changed: " + base}
	}
	if sameContent(old, cur) {
		return nil
	}
	// Both lists are sorted by path (describe sorts them; a record that
	// is not merely reports more changes): one pass pairs them.
	name := func(f File) string { return filepath.Join(base, filepath.FromSlash(f.Path)) }
	var out, removed []string // the files added or changed first, then those removed
	i, j := 0, 0
	for i < len(old.Files) || j < len(cur.Files) {
		switch {
		case j == len(cur.Files) || (i < len(old.Files) && old.Files[i].Path < cur.Files[j].Path):
			removed = append(removed, "source removed: "+name(old.Files[i]))
			i++
		case i == len(old.Files) || cur.Files[j].Path < old.Files[i].Path:
			out = append(out, "source added: "+name(cur.Files[j]))
			j++
		default:
			if !sameContent(old.Files[i], cur.Files[j]) {
				out = append(out, "source changed: "+name(cur.Files[j]))
			}
			i++
			j++
		}
	}
	out = append(out, removed...)
	if len(out) == 0 { // the same files, hashed alike, in another order: cannot be, but say so
		out = append(out, "source changed: "+base)
	}
	return out
}
