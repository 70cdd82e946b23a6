package runner

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zeebo/xxh3"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

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
	// FilesIn, in a record file, names the file beside it that lists a
	// large directory's Files (see filelist.go); once read, Files holds
	// them and FilesIn is empty.
	FilesIn string `json:"files_in,omitempty"`
}

const hashPrefix = "xxh3-128:"

// XXH3 returns f's content hash as the xxh3.Uint128 that xxh3.Hash128 of
// the same bytes returns, if Hash is one as hashFile writes it
// ("xxh3-128:" and 32 lower-case hex digits).
func (f *File) XXH3() (xxh3.Uint128, bool) {
	hexed, ok := strings.CutPrefix(f.Hash, hashPrefix)
	if !ok || len(hexed) != 32 {
		return xxh3.Uint128{}, false
	}
	var raw [16]byte
	var again [32]byte
	if _, err := hex.Decode(raw[:], []byte(hexed)); err != nil {
		return xxh3.Uint128{}, false
	}
	if hex.Encode(again[:], raw[:]); string(again[:]) != hexed { // upper case would not come back alike
		return xxh3.Uint128{}, false
	}
	return xxh3.Uint128{Hi: binary.BigEndian.Uint64(raw[:8]), Lo: binary.BigEndian.Uint64(raw[8:])}, true
}

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
	// Only the reader: io.CopyBuffer would hand an *os.File's WriteTo the
	// copy, which reads through a fresh buffer of its own.
	if _, err := io.CopyBuffer(h, struct{ io.Reader }{f}, buf[:]); err != nil {
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
	found, err := listFiles(full, skipHidden)
	if err != nil {
		return File{}, err
	}
	// old's files are sorted too (as this function writes them): one pass
	// pairs each file with its old description.
	olds := make([]*File, len(found))
	if old != nil {
		j := 0
		for i, e := range found {
			for j < len(old.Files) && old.Files[j].Path < e.rel {
				j++
			}
			if j < len(old.Files) && old.Files[j].Path == e.rel {
				olds[i] = &old.Files[j]
			}
		}
	}
	// Each file was stat'ed as it was listed: only links to directories
	// are described through, and only new or changed files hashed.
	dir.Files = make([]File, len(found))
	var again []int
	for i, e := range found {
		switch {
		case e.err != nil:
			return File{}, e.err
		case e.link:
			again = append(again, i)
		default:
			f := File{Path: e.rel, Size: e.size, MTime: e.mtime}
			if o := olds[i]; o != nil && !o.Dir && o.Size == f.Size && o.MTime == f.MTime && o.Hash != "" {
				f.Hash = o.Hash
			} else {
				again = append(again, i)
			}
			dir.Files[i] = f
		}
	}
	if err := describeAll(len(again), func(k int) (err error) {
		i := again[k]
		if found[i].link {
			dir.Files[i], err = describeFile(found[i].full(), found[i].rel, olds[i])
		} else {
			dir.Files[i].Hash, err = hashFile(found[i].full())
		}
		return err
	}); err != nil {
		return File{}, err
	}
	h := xxh3.New()
	for _, f := range dir.Files {
		dir.Size += f.Size
		h.WriteString(f.Path)
		h.Write([]byte{0})
		h.WriteString(f.Hash)
		h.Write([]byte{0})
	}
	sum := h.Sum128().Bytes()
	dir.Hash = hashPrefix + hex.EncodeToString(sum[:])
	return dir, nil
}

// entry is a file under a directory: the directory's path and the file's
// name in it, its slash-separated path inside the directory described,
// and what stat (following links) said of it.
type entry struct {
	dir, name, rel string
	size, mtime    int64
	link           bool  // a link to a directory
	err            error // stat's
}

func (e *entry) full() string { return e.dir + string(filepath.Separator) + e.name }

// listFiles returns the files under the directory full, sorted by their
// path inside it, without following links to directories (a link is
// listed as a file, and described through), leaving out names that begin
// with "." when skipHidden. Directories are read side by side, and each
// entry is stat'ed by its name in its directory (fstatat), which spares
// the kernel walking its whole path again.
func listFiles(full string, skipHidden bool) ([]entry, error) {
	type chunk struct {
		rel   string
		files []entry // sorted by name
	}
	var (
		mu     sync.Mutex
		chunks []chunk
		g      errgroup.Group
		visit  func(dir, rel string) error
	)
	g.SetLimit(describers())
	visit = func(dir, rel string) error {
		d, err := os.Open(dir)
		if err != nil {
			return err
		}
		defer d.Close()
		names, err := d.Readdirnames(-1)
		if err != nil {
			return err
		}
		slices.Sort(names)
		// The files' paths inside the directory described are cut from
		// one string: a folder of a hundred thousand files makes that
		// many fewer objects for the garbage collector.
		var b strings.Builder
		for _, name := range names {
			b.WriteString(rel)
			b.WriteString(name)
		}
		rels, at := b.String(), 0
		fd := int(d.Fd())
		files := make([]entry, 0, len(names))
		var st unix.Stat_t
		for _, name := range names {
			r := rels[at : at+len(rel)+len(name)]
			at += len(r)
			if skipHidden && strings.HasPrefix(name, ".") {
				continue
			}
			if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return &fs.PathError{Op: "lstat", Path: dir + string(filepath.Separator) + name, Err: err}
			}
			if st.Mode&unix.S_IFMT == unix.S_IFDIR {
				p, r := dir+string(filepath.Separator)+name, r+"/"
				if !g.TryGo(func() error { return visit(p, r) }) {
					if err := visit(p, r); err != nil {
						return err
					}
				}
				continue
			}
			f := entry{dir: dir, name: name, rel: r}
			if st.Mode&unix.S_IFMT == unix.S_IFLNK { // described through the link
				if f.err = unix.Fstatat(fd, name, &st, 0); f.err != nil {
					f.err = &fs.PathError{Op: "stat", Path: f.full(), Err: f.err}
				}
				f.link = st.Mode&unix.S_IFMT == unix.S_IFDIR
			}
			f.size, f.mtime = st.Size, st.Mtim.Nano()
			files = append(files, f)
		}
		mu.Lock()
		chunks = append(chunks, chunk{rel, files})
		mu.Unlock()
		return nil
	}
	err := visit(full, "")
	if werr := g.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		return nil, err
	}
	// The folders' files one folder after the other are in order unless a
	// folder holds both files and folders whose names interleave them.
	slices.SortFunc(chunks, func(a, b chunk) int { return strings.Compare(a.rel, b.rel) })
	parts := make([][]entry, len(chunks))
	for i, c := range chunks {
		parts[i] = c.files
	}
	found := slices.Concat(parts...)
	byRel := func(a, b entry) int { return strings.Compare(a.rel, b.rel) }
	if !slices.IsSortedFunc(found, byRel) {
		slices.SortFunc(found, byRel)
	}
	return found, nil
}

// describers is how many goroutines read a directory's files at once.
func describers() int { return max(runtime.GOMAXPROCS(0), 2) * 2 }

// describeAll runs describe(i) for i < n on a few goroutines (a
// directory's files are stat'ed, and the changed ones hashed, side by
// side: the system calls wait on the disk, not the CPU). It returns the
// error of the lowest i that failed.
func describeAll(n int, describe func(i int) error) error {
	const block = 256
	workers := min(describers(), (n+block-1)/block)
	if workers <= 1 {
		for i := range n {
			if err := describe(i); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				b := int(next.Add(1)-1) * block
				if b >= n {
					return
				}
				for i := b; i < min(b+block, n); i++ {
					errs[i] = describe(i)
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
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

// readRecord returns the stage's record, or nil if it has none; a record
// that cannot be parsed counts as none (the stage reruns).
func readRecord(root, stage string) (*Record, error) {
	r, err := loadRecord(recordPath(root, stage))
	if errors.Is(err, fs.ErrNotExist) || errors.As(err, new(*damagedRecord)) {
		return nil, nil
	}
	return r, err
}

// writeRecord replaces the stage's record atomically: the lists of its
// large directories first, each to a file of its own named by its hash,
// then the record, which names them; then the lists no record names.
func writeRecord(root string, r *Record) error {
	name := recordPath(root, r.Stage)
	out, lists, err := packLists(filepath.Dir(name), r)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(name, append(data, '\n')); err != nil {
		return err
	}
	remember(name, data, r)
	removeStaleLists(filepath.Dir(name), r.Stage, lists)
	return nil
}

func removeRecord(root, stage string) error {
	err := os.Remove(recordPath(root, stage))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		removeStaleLists(filepath.Dir(recordPath(root, stage)), stage, nil)
	}
	return err
}
