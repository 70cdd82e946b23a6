package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/siamese-pipeline/siamese/pipeline"
)

// A Share lets several artifacts roots (the variants of a sweep) make the
// outputs of a stage once when the stage's fingerprint is the same in
// each: the first root to run it keeps its outputs in the share, and the
// others take them from there instead of running the stage again. The
// runner asks the share before it runs a stale stage and tells it once
// the stage has succeeded.
type Share interface {
	// Claim waits until no other root is making the outputs of
	// fingerprint fp and returns them if they were made (nil if not),
	// with release, which the runner calls once the stage has been
	// committed or has failed: another root waiting on fp then goes on.
	Claim(ctx context.Context, stage, fp string) (shared *Shared, release func(), err error)
	// Keep keeps the outputs of a stage that root has just made, which
	// rec describes, for later claims of rec.Fingerprint. It is called
	// before release.
	Keep(root string, rec *Record) error
}

// Shared is a stage's outputs as a Share holds them: each out at its
// path under Dir, as the Record made them.
type Shared struct {
	Dir    string
	Record *Record
	// From names where the outputs were first made, for the record of
	// the roots that take them.
	From string
}

// Reused is the outcome of a stage whose outputs a run took from a Share
// instead of running it: another root had made them with the same
// fingerprint.
const Reused Outcome = "shared"

// succeeded says whether a stage's outcome leaves its outputs in place.
func succeeded(o Outcome) bool { return o == Ran || o == Reused }

// adopt links the shared outputs of a stage into its temporary output
// paths (hard links; a copy where the share lies on another file
// system). It returns the descriptions of the outputs the share's record
// vouches for, by path, so that commit need not hash them again.
func adopt(s *pipeline.Stage, sh *Shared, outputs map[string]string) (map[string]*File, error) {
	known := map[string]*File{}
	for i := range sh.Record.Outs {
		known[sh.Record.Outs[i].Path] = &sh.Record.Outs[i]
	}
	for _, o := range s.Outs {
		if known[o.Path] == nil {
			return nil, fmt.Errorf("shared outputs lack %s", o)
		}
		src := filepath.Join(sh.Dir, filepath.FromSlash(o.Path))
		dst := outputs[o.Name()]
		if o.Dir {
			if err := os.RemoveAll(dst); err != nil {
				return nil, err
			}
		}
		if err := linkTree(src, dst); err != nil {
			return nil, fmt.Errorf("take shared %s: %w", o, err)
		}
	}
	return known, nil
}

// linkTree hard-links the file or the directory tree at src to dst.
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		return LinkFile(p, to)
	})
}

// LinkFile hard-links src to dst, or copies it (keeping its mtime) where
// a link cannot be made, as across file systems.
func LinkFile(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chtimes(dst, info.ModTime(), info.ModTime())
}

// claim asks the runner's share, if it has one, for a stage's outputs.
// It returns what the share holds (nil if nothing) and the release to
// call once the stage has been committed or has failed.
func (r *Runner) claim(ctx context.Context, s *pipeline.Stage, fp string) (*Shared, func(), error) {
	if r.Share == nil {
		return nil, func() {}, nil
	}
	sh, release, err := r.Share.Claim(ctx, s.Name, fp)
	if err != nil {
		return nil, nil, fmt.Errorf("shared outputs: %w", err)
	}
	if sh != nil && (sh.Record == nil || sh.Record.Fingerprint != fp) {
		return nil, release, errors.New("shared outputs: the share returned another fingerprint's record")
	}
	if sh != nil && len(sh.Record.Sources) > 0 {
		// The fingerprint leaves out the files a stage read from outside
		// the root: outputs made from sources that changed since are stale.
		rec := *sh.Record
		rec.Sources = slices.Clone(rec.Sources)
		pl := &planner{touched: map[string]*Record{}}
		if reason := pl.checkSources(&rec); reason != "" {
			r.log().Info("shared outputs not taken: their sources changed", "stage", s.Name, "why", reason)
			return nil, release, nil
		}
		sh = &Shared{Dir: sh.Dir, Record: &rec, From: sh.From}
	}
	return sh, release, nil
}
