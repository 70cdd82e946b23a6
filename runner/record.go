package runner

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/siamese-pipeline/siamese/internal/atomicfile"
)

// Record is what the runner keeps of a stage's last successful run, in
// the spirit of a dvc.lock entry: enough to tell later whether the stage's
// outputs are still what that run made from the same inputs and params.
type Record struct {
	Stage       string         `json:"stage"`
	Uses        string         `json:"uses"`
	Version     string         `json:"version"`
	Fingerprint string         `json:"fingerprint"`
	Params      map[string]any `json:"params"`
	Deps        []File         `json:"deps"`
	Outs        []File         `json:"outs"`
	Start       time.Time      `json:"start"`
	End         time.Time      `json:"end"`
	Seconds     float64        `json:"duration_s"`
	Program     string         `json:"program,omitempty"`
	// Sources are the files the stage reported reading from outside the
	// artifacts root (Env.Track), by absolute path.
	Sources []File `json:"sources,omitempty"`
	// SharedFrom names the root whose outputs, made with the same
	// fingerprint, this stage took from a Share instead of running.
	SharedFrom string `json:"shared_from,omitempty"`
}

// File describes one input or output: a file, or a directory whose Files
// list what it holds.
type File struct {
	Path  string `json:"path"` // relative to the artifacts root (to the directory, inside Files)
	Dir   bool   `json:"dir,omitempty"`
	Size  int64  `json:"size"`
	MTime int64  `json:"mtime_ns,omitempty"`
	Hash  string `json:"hash"`
	Files []File `json:"files,omitempty"`
}

const hashPrefix = "xxh3-128:"

// hashBufs are hashFile's read buffers: a folder of ten thousand small
// images must not allocate a fresh megabyte per file.
var hashBufs = sync.Pool{New: func() any { return new([1 << 20]byte) }}

// hashFile returns the content hash of a file.
func hashFile(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := xxh3.New()
	buf := hashBufs.Get().(*[1 << 20]byte)
	defer hashBufs.Put(buf)
	if _, err := io.CopyBuffer(h, f, buf[:]); err != nil {
		return "", fmt.Errorf("hash %s: %w", name, err)
	}
	sum := h.Sum128().Bytes()
	return hashPrefix + hex.EncodeToString(sum[:]), nil
}

// describeFile stats and hashes a file or directory at full (whose record
// path is rel). Where old describes the same path and its size and mtime
// are unchanged, old's hash is reused instead of reading the file again.
func describeFile(full, rel string, old *File) (File, error) {
	return describe(full, rel, old, false)
}

// describe is describeFile; with skipHidden, names starting with "." under
// a directory are left out.
func describe(full, rel string, old *File, skipHidden bool) (File, error) {
	info, err := os.Stat(full)
	if err != nil {
		return File{}, err
	}
	if !info.IsDir() {
		f := File{Path: rel, Size: info.Size(), MTime: info.ModTime().UnixNano()}
		if old != nil && !old.Dir && old.Size == f.Size && old.MTime == f.MTime && old.Hash != "" {
			f.Hash = old.Hash
			return f, nil
		}
		f.Hash, err = hashFile(full)
		return f, err
	}
	dir := File{Path: rel, Dir: true}
	oldFiles := map[string]*File{}
	if old != nil {
		for i := range old.Files {
			oldFiles[old.Files[i].Path] = &old.Files[i]
		}
	}
	err = filepath.WalkDir(full, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skipHidden && p != full && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		r, err := filepath.Rel(full, p)
		if err != nil {
			return err
		}
		r = filepath.ToSlash(r)
		f, err := describeFile(p, r, oldFiles[r])
		if err != nil {
			return err
		}
		dir.Files = append(dir.Files, f)
		dir.Size += f.Size
		return nil
	})
	if err != nil {
		return File{}, err
	}
	slices.SortFunc(dir.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	h := xxh3.New()
	for _, f := range dir.Files {
		fmt.Fprintf(h, "%s\x00%s\x00", f.Path, f.Hash)
	}
	sum := h.Sum128().Bytes()
	dir.Hash = hashPrefix + hex.EncodeToString(sum[:])
	return dir, nil
}

// sameContent reports whether two descriptions hold the same bytes.
func sameContent(a, b File) bool { return a.Hash == b.Hash && a.Size == b.Size && a.Dir == b.Dir }

// sameStat reports whether two descriptions have the same sizes and
// mtimes, file by file.
func sameStat(a, b File) bool {
	if a.Size != b.Size || a.MTime != b.MTime || len(a.Files) != len(b.Files) {
		return false
	}
	for i := range a.Files {
		if !sameStat(a.Files[i], b.Files[i]) {
			return false
		}
	}
	return true
}

func recordPath(root, stage string) string {
	return filepath.Join(root, internalDir, "stages", stage+".json")
}

// readRecord returns the stage's record, or nil if it has none.
func readRecord(root, stage string) (*Record, error) {
	data, err := os.ReadFile(recordPath(root, stage))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, nil // a record we cannot read is no record: the stage reruns
	}
	return &r, nil
}

// writeRecord replaces the stage's record atomically.
func writeRecord(root string, r *Record) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(recordPath(root, r.Stage), append(data, '\n'))
}

func removeRecord(root, stage string) error {
	err := os.Remove(recordPath(root, stage))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
