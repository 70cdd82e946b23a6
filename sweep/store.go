package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/siamese-pipeline/siamese/internal/atomicfile"
	"github.com/siamese-pipeline/siamese/runner"
)

// Store is a runner.Share kept in a directory: for each fingerprint whose
// stage has run, a directory <hash>/ holding the outputs (hard links to
// the files the first root made) and entry.json (the stage's record and
// that root). A flock on <hash>.lock makes the roots that need the same
// fingerprint at once (goroutines of one sweep, or cluster jobs) wait for
// the first instead of running the stage again.
type Store struct {
	Dir string
	// Poll is how often a claim that waits tries the lock again; 0
	// means 50 ms.
	Poll time.Duration
}

type entry struct {
	From   string         `json:"from"`
	Record *runner.Record `json:"record"`
}

func (s *Store) key(fp string) (string, error) {
	h := strings.TrimPrefix(fp, "sha256:")
	if h == "" || strings.ContainsAny(h, `/\.`) {
		return "", fmt.Errorf("store: bad fingerprint %q", fp)
	}
	return h, nil
}

// Claim implements runner.Share.
func (s *Store) Claim(ctx context.Context, stage, fp string) (*runner.Shared, func(), error) {
	h, err := s.key(fp)
	if err != nil {
		return nil, nil, err
	}
	release, err := LockWait(ctx, filepath.Join(s.Dir, h+".lock"), s.Poll)
	if err != nil {
		return nil, nil, fmt.Errorf("store: %w", err)
	}
	e, err := s.read(h)
	if err != nil || e == nil {
		// An entry that cannot be read, or whose files were changed
		// since, is no entry: the stage runs and makes a new one.
		_ = os.RemoveAll(filepath.Join(s.Dir, h))
		return nil, release, nil
	}
	return &runner.Shared{Dir: filepath.Join(s.Dir, h, "outs"), Record: e.Record, From: e.From}, release, nil
}

// read returns the entry of hash h if it is whole and its files are as
// its record made them (sizes and mtimes), or nil.
func (s *Store) read(h string) (*entry, error) {
	data, err := os.ReadFile(filepath.Join(s.Dir, h, "entry.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var e entry
	if err := json.Unmarshal(data, &e); err != nil || e.Record == nil {
		return nil, fmt.Errorf("store: entry %s: unreadable", h)
	}
	outs := filepath.Join(s.Dir, h, "outs")
	for _, f := range e.Record.Outs {
		if !unchanged(filepath.Join(outs, filepath.FromSlash(f.Path)), f) {
			return nil, fmt.Errorf("store: entry %s: %s changed", h, f.Path)
		}
	}
	return &e, nil
}

// unchanged says whether the file or directory at full has f's sizes and
// mtimes, file by file.
func unchanged(full string, f runner.File) bool {
	if f.Dir {
		for _, g := range f.Files {
			if !unchanged(filepath.Join(full, filepath.FromSlash(g.Path)), g) {
				return false
			}
		}
		return true
	}
	info, err := os.Stat(full)
	return err == nil && info.Mode().IsRegular() && info.Size() == f.Size && info.ModTime().UnixNano() == f.MTime
}

// Keep implements runner.Share: it links the outputs that rec describes
// under root into a new entry.
func (s *Store) Keep(root string, rec *runner.Record) error {
	h, err := s.key(rec.Fingerprint)
	if err != nil {
		return err
	}
	final := filepath.Join(s.Dir, h)
	if _, err := os.Stat(final); err == nil {
		return nil
	}
	tmp, err := os.MkdirTemp(s.Dir, "tmp-"+h[:8]+"-")
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer os.RemoveAll(tmp)
	for _, f := range rec.Outs {
		if err := link(filepath.Join(root, filepath.FromSlash(f.Path)), filepath.Join(tmp, "outs", filepath.FromSlash(f.Path)), f); err != nil {
			return fmt.Errorf("store: %s: %w", f.Path, err)
		}
	}
	data, err := json.MarshalIndent(entry{From: root, Record: rec}, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(tmp, "entry.json"), append(data, '\n')); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// link links the file or directory that f describes from src to dst.
func link(src, dst string, f runner.File) error {
	if f.Dir {
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		for _, g := range f.Files {
			if err := link(filepath.Join(src, filepath.FromSlash(g.Path)), filepath.Join(dst, filepath.FromSlash(g.Path)), g); err != nil {
				return err
			}
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return runner.LinkFile(src, dst)
}

// LockWait takes the flock on name, trying again every poll (0: 50 ms)
// while another holds it, until ctx is done.
func LockWait(ctx context.Context, name string, poll time.Duration) (func(), error) {
	if poll <= 0 {
		poll = 50 * time.Millisecond
	}
	for {
		release, err := runner.LockFile(name)
		if !errors.As(err, new(*runner.LockError)) {
			return release, err
		}
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(poll):
		}
	}
}
