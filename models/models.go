// Package models keeps the promoted models under the artifacts root: each
// in models/<run id>/, a self-contained copy of what scoring needs (the
// network, anchors, thresholds, class names and preprocessing), with
// models/current a symbolic link to the one in use. Promoting writes the
// new model under a temporary name, renames it into place, then replaces
// the link with a rename, so a reader sees the old model or the new one,
// never a mix.
package models

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/siamese-pipeline/siamese/internal/atomicfile"
	"github.com/siamese-pipeline/siamese/internal/idref"
	"github.com/siamese-pipeline/siamese/scoring"
)

// Dir is the models area under the artifacts root.
const Dir = "models"

// Current is the name of the link to the current model in Dir.
const Current = "current"

// ManifestFile describes a promoted model, in its directory.
const ManifestFile = "manifest.json"

// The files of a promoted model besides the network's (model.json and
// the weight files it names).
const (
	AnchorsFile    = "anchors.npy"
	ThresholdsFile = "thresholds.json"
	ClassesFile    = "classes.txt"
)

// Manifest is manifest.json: where a promoted model comes from.
type Manifest struct {
	Run        string             `json:"run"`       // the run that promoted it
	RunStart   time.Time          `json:"run_start"` // when that run started
	Promoted   time.Time          `json:"promoted"`
	Preprocess scoring.Preprocess `json:"preprocess"`
	Metrics    map[string]float64 `json:"metrics"`
	// Dataset is the tracked source of the data the model learned from (a
	// folder, or the directory of the dataset's files); models promoted
	// before it was kept lack it.
	Dataset string `json:"dataset,omitempty"`
	// Digest is the SHA-256 of the model's files (names and contents, in
	// name order); Files lists them.
	Digest string   `json:"digest"`
	Files  []string `json:"files"`
}

// Model is a promoted model.
type Model struct {
	Manifest
	Dir     string // its directory
	Current bool   // whether models/current points at it
}

// Paths are where the model's parts lie, for scoring.Open.
func (m *Model) Paths() scoring.Files {
	return scoring.Files{Model: m.Dir, Anchors: filepath.Join(m.Dir, AnchorsFile),
		Thresholds: filepath.Join(m.Dir, ThresholdsFile), Classes: filepath.Join(m.Dir, ClassesFile)}
}

// Classes are the model's class names, in label order.
func (m *Model) Classes() ([]string, error) {
	data, err := os.ReadFile(filepath.Join(m.Dir, ClassesFile))
	if err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	return strings.Split(strings.TrimRight(string(data), "\n"), "\n"), nil
}

// Source is a file to promote: its name in the model's directory and
// where it is now.
type Source struct{ Name, Path string }

// ErrNoCurrent says that no model was promoted yet.
var ErrNoCurrent = errors.New("no model has been promoted")

var validRun = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Promote copies files into root/models/<m.Run>/ with m as its manifest,
// points current at it and removes the oldest models beyond keep. When
// the current model has the same files already (a run that changed
// nothing) it does nothing and returns the current model and false.
func Promote(root string, m Manifest, files []Source, keep int) (*Model, bool, error) {
	if !validRun.MatchString(m.Run) || m.Run == Current {
		return nil, false, fmt.Errorf("promote: invalid run id %q", m.Run)
	}
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b Source) int { return strings.Compare(a.Name, b.Name) })
	m.Files = nil
	for i, f := range files {
		if filepath.Base(f.Name) != f.Name || f.Name == ManifestFile || strings.HasPrefix(f.Name, ".") {
			return nil, false, fmt.Errorf("promote: invalid file name %q", f.Name)
		}
		if i > 0 && files[i-1].Name == f.Name {
			return nil, false, fmt.Errorf("promote: file %q named twice", f.Name)
		}
		m.Files = append(m.Files, f.Name)
	}
	digest, err := digest(files)
	if err != nil {
		return nil, false, fmt.Errorf("promote: %w", err)
	}
	m.Digest = digest
	if cur, err := CurrentModel(root); err == nil && cur.Digest == digest {
		return cur, false, nil
	} else if err != nil && !errors.Is(err, ErrNoCurrent) {
		return nil, false, err
	}

	area := filepath.Join(root, Dir)
	final := filepath.Join(area, m.Run)
	if _, err := os.Lstat(final); err == nil {
		return nil, false, fmt.Errorf("promote: %s already exists", final)
	}
	if err := os.MkdirAll(area, 0o755); err != nil {
		return nil, false, fmt.Errorf("promote: %w", err)
	}
	// What a killed promotion or prune left behind.
	if entries, err := os.ReadDir(area); err == nil {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".promote-") || strings.HasPrefix(e.Name(), ".removing-") {
				os.RemoveAll(filepath.Join(area, e.Name()))
			}
		}
	}
	tmp, err := os.MkdirTemp(area, ".promote-")
	if err != nil {
		return nil, false, fmt.Errorf("promote: %w", err)
	}
	defer os.RemoveAll(tmp) // gone after the rename
	for _, f := range files {
		if err := copyFile(f.Path, filepath.Join(tmp, f.Name)); err != nil {
			return nil, false, fmt.Errorf("promote: %w", err)
		}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, false, err
	}
	if err := atomicfile.WriteFile(filepath.Join(tmp, ManifestFile), append(data, '\n')); err != nil {
		return nil, false, fmt.Errorf("promote: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, false, fmt.Errorf("promote: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return nil, false, fmt.Errorf("promote: %w", err)
	}
	if err := point(area, m.Run); err != nil {
		return nil, false, fmt.Errorf("promote: %w", err)
	}
	if err := Prune(root, keep); err != nil {
		return nil, true, err
	}
	return &Model{Manifest: m, Dir: final, Current: true}, true, nil
}

// point makes area/current a link to run, replacing the old link with a
// rename.
func point(area, run string) error {
	for i := 0; ; i++ {
		tmp := filepath.Join(area, fmt.Sprintf(".%s-%d-%d", Current, os.Getpid(), i))
		err := os.Symlink(run, tmp)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(area, Current)); err != nil {
			os.Remove(tmp)
			return err
		}
		return syncDir(area)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// digest hashes the files' names and contents, in the order given.
func digest(files []Source) (string, error) {
	h := sha256.New()
	for _, f := range files {
		in, err := os.Open(f.Path)
		if err != nil {
			return "", err
		}
		st, err := in.Stat()
		if err == nil && st.IsDir() {
			err = fmt.Errorf("%s is a directory", f.Path)
		}
		if err == nil {
			fmt.Fprintf(h, "%s\x00%d\x00", f.Name, st.Size())
			_, err = io.Copy(h, in)
		}
		in.Close()
		if err != nil {
			return "", err
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// List returns the promoted models, oldest first. Directories without a
// manifest are not models and are left out; a manifest that cannot be
// read is an error.
func List(root string) ([]*Model, error) {
	area := filepath.Join(root, Dir)
	entries, err := os.ReadDir(area)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	cur, _ := os.Readlink(filepath.Join(area, Current))
	var out []*Model
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if _, err := os.Stat(filepath.Join(area, e.Name(), ManifestFile)); errors.Is(err, os.ErrNotExist) {
			continue // not a promoted model: someone else's directory
		}
		m, err := read(filepath.Join(area, e.Name()))
		if err != nil {
			return nil, err
		}
		m.Current = e.Name() == cur
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *Model) int {
		if c := a.Promoted.Compare(b.Promoted); c != 0 {
			return c
		}
		return strings.Compare(a.Run, b.Run)
	})
	return out, nil
}

func read(dir string) (*Model, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	m := &Model{Dir: dir}
	if err := json.Unmarshal(data, &m.Manifest); err != nil {
		return nil, fmt.Errorf("models: %s: %w", filepath.Join(dir, ManifestFile), err)
	}
	if m.Run != filepath.Base(dir) {
		return nil, fmt.Errorf("models: %s holds run %q", dir, m.Run)
	}
	return m, nil
}

// CurrentModel returns the model models/current points at, or an error
// wrapping ErrNoCurrent when there is none.
func CurrentModel(root string) (*Model, error) {
	link := filepath.Join(root, Dir, Current)
	run, err := os.Readlink(link)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w (%s does not exist)", ErrNoCurrent, link)
	}
	if err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	if !validRun.MatchString(run) {
		return nil, fmt.Errorf("models: %s points at %q, not at a model in %s", link, run, filepath.Dir(link))
	}
	m, err := read(filepath.Join(root, Dir, run))
	if err != nil {
		return nil, err
	}
	m.Current = true
	return m, nil
}

// Find returns the model ref names: "current", a run id or a unique
// prefix of one.
func Find(root, ref string) (*Model, error) {
	if ref == Current {
		return CurrentModel(root)
	}
	all, err := List(root)
	if err != nil {
		return nil, err
	}
	found := idref.Match(all, ref, func(m *Model) string { return m.Run })
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, fmt.Errorf("no promoted model %q in %s (siamese models lists them)", ref, filepath.Join(root, Dir))
	}
	return nil, fmt.Errorf("model prefix %q is ambiguous: %d promoted models start with it", ref, len(found))
}

// Prune removes the oldest promoted models beyond keep, never the current
// one. Each is renamed to a hidden name before it is removed, so no half-
// removed model is ever listed.
func Prune(root string, keep int) error {
	all, err := List(root)
	if err != nil {
		return err
	}
	remaining := len(all)
	for _, m := range all {
		if remaining <= keep {
			break
		}
		if m.Current {
			continue
		}
		remaining--
		gone := filepath.Join(filepath.Dir(m.Dir), ".removing-"+m.Run)
		if err := os.Rename(m.Dir, gone); err != nil {
			return fmt.Errorf("models: prune: %w", err)
		}
		if err := os.RemoveAll(gone); err != nil {
			return fmt.Errorf("models: prune: %w", err)
		}
	}
	return nil
}
