package runner

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/zeebo/xxh3"

	"github.com/siamese-pipeline/siamese/internal/atomicfile"
)

// A record lists every file of a tracked directory. For a folder dataset
// of a hundred thousand images that is a hundred thousand entries, which
// as JSON take a tenth of a second to read and as much to write, on every
// run. A directory of more than packAbove files is therefore listed in a
// file of its own beside the record, <stage>.<hash>.files (a compact
// binary table, hashed with xxh3 into its name), and the record names it
// in File.FilesIn. A list is written before the record that names it and
// removed only once its stage's record names another, so a record always
// finds its lists; a list that is missing or does not hash to its name
// makes the record damaged (the stage reruns).

// packAbove is the largest directory listed in the record itself.
const packAbove = 256

// listMagic starts a list file. Then, per file: the path (uvarint length,
// bytes), the size and mtime (varints), and the hash (tag 1: the 16 bytes
// of an xxh3-128 hash; tag 0: uvarint length and the hash as it is).
const listMagic = "siamese-files-v1\n"

// listName is the name of the list file of stage holding data.
func listName(stage string, data []byte) string {
	return fmt.Sprintf("%s.%016x.files", stage, xxh3.Hash(data))
}

// packLists returns what to write of r: r itself, or a copy whose large
// directories name their list files (written into dir unless there
// already) instead of holding their Files. It returns those names too.
func packLists(dir string, r *Record) (*Record, []string, error) {
	var names []string
	pack := func(files []File) ([]File, error) {
		var out []File
		for i, f := range files {
			if len(f.Files) <= packAbove || slices.ContainsFunc(f.Files, func(g File) bool { return g.Dir }) {
				continue
			}
			data := appendList([]byte(listMagic), f.Files)
			name := listName(r.Stage, data)
			if err := writeList(filepath.Join(dir, name), data); err != nil {
				return nil, err
			}
			names = append(names, name)
			if out == nil {
				out = slices.Clone(files)
			}
			out[i].Files, out[i].FilesIn = nil, name
		}
		if out == nil {
			return files, nil
		}
		return out, nil
	}
	c := *r
	var err error
	if c.Deps, err = pack(r.Deps); err != nil {
		return nil, nil, err
	}
	if c.Outs, err = pack(r.Outs); err != nil {
		return nil, nil, err
	}
	if c.Sources, err = pack(r.Sources); err != nil {
		return nil, nil, err
	}
	return &c, names, nil
}

// writeList writes a list file unless it is there already, byte for byte
// (a list torn or changed under the same name is written anew). It is not
// synced to disk: a list torn by a crash does not hash to its name, so
// its record counts as damaged and the stage reruns, which writes it
// again; that is all a lost list costs.
func writeList(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return atomicfile.Replace(path, data)
}

// unpackLists fills the Files of r's files that name a list file in dir.
func unpackLists(dir string, r *Record) error {
	for _, files := range [][]File{r.Deps, r.Outs, r.Sources} {
		for i := range files {
			f := &files[i]
			if f.FilesIn == "" {
				continue
			}
			name := f.FilesIn
			if filepath.Base(name) != name || !strings.HasPrefix(name, r.Stage+".") {
				return fmt.Errorf("list file %q is not one of stage %s", name, r.Stage)
			}
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				return err
			}
			if listName(r.Stage, data) != name {
				return fmt.Errorf("list file %s does not hash to its name", name)
			}
			if f.Files, err = readList(data); err != nil {
				return fmt.Errorf("list file %s: %w", name, err)
			}
			f.FilesIn = ""
		}
	}
	return nil
}

// removeStaleLists removes stage's list files in dir but those kept.
func removeStaleLists(dir, stage string, keep []string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		n := e.Name()
		mid, ok := strings.CutPrefix(n, stage+".")
		if !ok {
			continue
		}
		if mid, ok = strings.CutSuffix(mid, ".files"); !ok || len(mid) != 16 || slices.Contains(keep, n) {
			continue
		}
		if _, err := hex.DecodeString(mid); err == nil {
			os.Remove(filepath.Join(dir, n))
		}
	}
}

// appendList appends the table of files to b.
func appendList(b []byte, files []File) []byte {
	b = binary.AppendUvarint(b, uint64(len(files)))
	for _, f := range files {
		b = binary.AppendUvarint(b, uint64(len(f.Path)))
		b = append(b, f.Path...)
		b = binary.AppendVarint(b, f.Size)
		b = binary.AppendVarint(b, f.MTime)
		if h, ok := f.XXH3(); ok {
			raw := h.Bytes()
			b = append(append(b, 1), raw[:]...)
		} else {
			b = binary.AppendUvarint(append(b, 0), uint64(len(f.Hash)))
			b = append(b, f.Hash...)
		}
	}
	return b
}

var errShort = errors.New("truncated")

// readList reads a list file's bytes. Its strings are cut from one
// allocation: a list of a hundred thousand files is read in milliseconds.
func readList(b []byte) ([]File, error) {
	b, ok := bytes.CutPrefix(b, []byte(listMagic))
	if !ok {
		return nil, errors.New("not a list file")
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) { // every file takes at least 4 bytes
		return nil, errShort
	}
	b = b[k:]
	uvarint := func() (int, error) {
		v, k := binary.Uvarint(b)
		if k <= 0 || v > uint64(len(b)-k) {
			return 0, errShort
		}
		b = b[k:]
		return int(v), nil
	}
	varint := func() (int64, error) {
		v, k := binary.Varint(b)
		if k <= 0 {
			return 0, errShort
		}
		b = b[k:]
		return v, nil
	}
	// Paths and hashes go into text; spans[2i], spans[2i+1] end file i's.
	text := make([]byte, 0, len(b)+int(n)*(len(hashPrefix)+16))
	spans := make([]int, 0, 2*n)
	files := make([]File, n)
	for i := range files {
		m, err := uvarint()
		if err != nil {
			return nil, err
		}
		text = append(text, b[:m]...)
		b = b[m:]
		spans = append(spans, len(text))
		if files[i].Size, err = varint(); err != nil {
			return nil, err
		}
		if files[i].MTime, err = varint(); err != nil {
			return nil, err
		}
		if len(b) == 0 {
			return nil, errShort
		}
		tag := b[0]
		b = b[1:]
		switch tag {
		case 1:
			if len(b) < 16 {
				return nil, errShort
			}
			text = hex.AppendEncode(append(text, hashPrefix...), b[:16])
			b = b[16:]
		case 0:
			if m, err = uvarint(); err != nil {
				return nil, err
			}
			text = append(text, b[:m]...)
			b = b[m:]
		default:
			return nil, fmt.Errorf("hash tag %d", tag)
		}
		spans = append(spans, len(text))
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%d bytes after the last file", len(b))
	}
	all, at := string(text), 0
	for i := range files {
		files[i].Path, files[i].Hash = all[at:spans[2*i]], all[spans[2*i]:spans[2*i+1]]
		at = spans[2*i+1]
	}
	return files, nil
}
