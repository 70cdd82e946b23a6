package ingest

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/zeebo/xxh3"
	"golang.org/x/sync/errgroup"

	"github.com/siamese-pipeline/siamese/imageio"
	"github.com/siamese-pipeline/siamese/runner"
)

// Folder datasets are laid out as torchvision's ImageFolder and Keras's
// image_dataset_from_directory read them: dir/<class>/*.png (also .jpg,
// .jpeg), at any depth under the class folder. The classes are the class
// folders' names, sorted, and label i is the i-th of them. The images are
// in class order, and within a class in the order Keras lists them: by
// folder path, then by file name. Names beginning with "." are hidden and
// left out; so are files directly in dir.

// Values of the on_bad_image param.
const (
	BadImageError = "error" // the run fails, naming the file
	BadImageSkip  = "skip"  // the file is left out, with a warning
)

// folderReader reads a folder dataset, decoding each image to size×size
// grayscale pixels with the named filter.
type folderReader struct {
	dir     string
	size    int
	filter  string
	skipBad bool
	log     *slog.Logger
	// cache, if set, is the directory of the decoded images of the last
	// runs (foldercache.go).
	cache string
	// tracked, if set, returns the runner's description of dir (Track's:
	// each file's size, mtime and content hash), which spares the reader
	// from learning them again.
	tracked func(dir string) (runner.File, bool)
}

func (r folderReader) paths() []string { return []string{r.dir} }

// imageFile is one file of a class folder, with its content hash when
// the runner's description of the folder gave it.
type imageFile struct {
	dir, rel string // its path is rel (slash-separated) inside dir
	class    int
	hash     xxh3.Uint128
	hashed   bool
}

// path is the file's path (made when needed: most files of a rerun are
// never opened).
func (f imageFile) path() string { return filepath.Join(f.dir, filepath.FromSlash(f.rel)) }

func (r folderReader) read(ctx context.Context) (*dataParts, error) {
	px := r.size * r.size
	// The cache is read while the folder is listed.
	cached := make(chan lookup, 1)
	go func() {
		var old *folderCache
		if r.cache != "" {
			var err error
			if old, err = loadCache(cacheFile(r.cache, r.size, r.filter), r.size, r.filter); err != nil {
				r.log.Warn("decoding every image: the cache of decoded images cannot be used", "err", err)
			}
		}
		cached <- newLookup(old, px)
	}()
	classes, files, err := r.list()
	lk := <-cached
	if err != nil {
		return nil, err
	}
	pixels := make([][]uint8, len(files))
	hashes := make([]xxh3.Uint128, len(files))
	bad := make([]error, len(files))
	// Files the runner hashed and the cache holds take their pixels at
	// once; the others are read (and decoded unless their bytes are
	// cached after all) side by side.
	var todo []int
	for i, f := range files {
		if f.hashed && imageio.IsImage(f.rel) { // a file of another kind is refused below
			if pixels[i] = lk.same(f.hash); pixels[i] != nil {
				hashes[i] = f.hash
				continue
			}
		}
		todo = append(todo, i)
	}
	var decoded atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, i := range todo {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			path := files[i].path()
			if !imageio.IsImage(path) {
				bad[i] = fmt.Errorf("%s: not an image file (want %s)", path, strings.Join(imageio.Exts, ", "))
			} else {
				var fresh bool
				pixels[i], hashes[i], fresh, bad[i] = r.image(path, lk)
				if fresh {
					decoded.Add(1)
				}
				if f := files[i]; f.hashed && hashes[i] != f.hash && pixels[i] != nil {
					// The run's record will say what the plan saw; the
					// images must hold the same bytes.
					return fmt.Errorf("%s changed while this run read the folder: run again", path)
				}
			}
			if bad[i] != nil && !r.skipBad {
				return fmt.Errorf("%w (on_bad_image: %s leaves such files out)", bad[i], BadImageSkip)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The images are written from where they lie, the cache's pixels or
	// a fresh decode, not gathered into one array first.
	p := part{rows: r.size, cols: r.size, pieces: make([][]uint8, 0, len(files)), labels: make([]uint8, 0, len(files))}
	counts := make([]int, len(classes))
	next := &folderCache{Side: r.size, Filter: r.filter, Hashes: make([]byte, 0, 16*len(files))}
	for i, f := range files {
		if bad[i] != nil {
			r.log.Warn("skipped a bad image", "err", bad[i])
			continue
		}
		b := hashes[i].Bytes()
		next.Hashes = append(next.Hashes, b[:]...)
		p.pieces = appendPiece(p.pieces, pixels[i])
		p.labels = append(p.labels, uint8(f.class))
		counts[f.class]++
	}
	p.n = len(p.labels)
	for c, n := range counts {
		if n == 0 {
			return nil, fmt.Errorf("%s: class folder %s holds no image", r.dir, classes[c])
		}
	}
	r.log.Info("read folder dataset", "classes", len(classes), "images", p.n, "skipped", len(files)-p.n,
		"decoded", decoded.Load(), "from_cache", p.n-int(decoded.Load()))
	d := &dataParts{parts: []part{p}, classes: classes}
	if r.cache != "" {
		next.pieces = p.pieces // the same images, in the same order
		d.written = func(images string) {
			if err := saveCache(cacheFile(r.cache, r.size, r.filter), next, images); err != nil {
				r.log.Warn("the decoded images could not be cached: the next run decodes them again", "err", err)
			}
		}
	}
	return d, nil
}

// image returns the pixels of the image file at path and the content hash
// of its bytes: the cached pixels of the same bytes if there are any,
// otherwise decoded (fresh).
func (r folderReader) image(path string, lk lookup) (px []uint8, h xxh3.Uint128, fresh bool, err error) {
	data, err := imageio.ReadFile(path)
	if err != nil {
		return nil, h, false, fmt.Errorf("unreadable image %w", err)
	}
	h = xxh3.Hash128(data)
	if px := lk.same(h); px != nil {
		return px, h, false, nil
	}
	if px, err = imageio.Decode(data, r.size, r.filter); err != nil {
		return nil, h, true, fmt.Errorf("unreadable image %s: %w", path, err)
	}
	return px, h, true, nil
}

// list returns the class names and every file of the class folders, in
// order.
func (r folderReader) list() ([]string, []imageFile, error) {
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("folder dataset: %w", err)
	}
	var classes []string
	for _, e := range entries { // sorted by name
		if hidden(e.Name()) {
			continue
		}
		st, err := os.Stat(filepath.Join(r.dir, e.Name())) // a link to a folder is a class too
		if err != nil {
			return nil, nil, fmt.Errorf("folder dataset: %w", err)
		}
		if !st.IsDir() {
			r.log.Info("not in a class folder: left out", "file", filepath.Join(r.dir, e.Name()))
			continue
		}
		if strings.ContainsAny(e.Name(), "\n\r") {
			return nil, nil, fmt.Errorf("folder dataset: class folder %q: a class name cannot hold a line break", e.Name())
		}
		classes = append(classes, e.Name())
	}
	if len(classes) < 2 || len(classes) > 256 {
		return nil, nil, fmt.Errorf("folder dataset %s: %d class folders, want 2 to 256 (laid out as %s/<class>/*.png)",
			r.dir, len(classes), r.dir)
	}
	if r.tracked != nil {
		if dir, ok := r.tracked(r.dir); ok && dir.Dir {
			return classes, describedFiles(r.dir, classes, dir.Files), nil
		}
	}
	// The class folders are walked side by side.
	found := make([][]imageFile, len(classes))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0) + 1)
	for c, name := range classes {
		g.Go(func() (err error) {
			found[c], err = r.classFiles(c, filepath.Join(r.dir, name))
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	return classes, slices.Concat(found...), nil
}

// appendPiece appends the pixels of an image to pieces, as part of the
// last piece where they follow it in memory (images taken in order from
// the cache): images.npy is written in a few large writes.
func appendPiece(pieces [][]uint8, px []uint8) [][]uint8 {
	if n := len(pieces); n > 0 {
		last := pieces[n-1]
		if l := len(last); cap(last) >= l+len(px) && len(px) > 0 && &last[:l+1][l] == &px[0] {
			pieces[n-1] = last[:l+len(px)]
			return pieces
		}
	}
	return append(pieces, px)
}

// describedFiles lists the files of the classes from the runner's
// description of dir (files, by slash-separated path inside it), as the
// walk of classFiles would, with their hashes: a folder read once per
// run, not twice. A link to a class folder is described through, as a
// class folder; a link to a folder inside one is a file, as the walk
// takes it (and no image).
func describedFiles(dir string, classes []string, files []runner.File) []imageFile {
	type entry struct {
		dir, name, rel string
		f              *runner.File
	}
	class := make(map[string]int, len(classes))
	for c, name := range classes {
		class[name] = c
	}
	found := make([][]entry, len(classes))
	counts := make([]int, len(classes)) // the files a class has at most, to allocate once
	for _, f := range files {
		top, _, _ := strings.Cut(f.Path, "/")
		if c, ok := class[top]; ok {
			counts[c] += max(1, len(f.Files))
		}
	}
	for c, n := range counts {
		found[c] = make([]entry, 0, n)
	}
	add := func(c int, rel string, f *runner.File) {
		d, name := path.Split(rel)
		found[c] = append(found[c], entry{strings.TrimSuffix(d, "/"), name, rel, f})
	}
	for i := range files {
		f := &files[i]
		top, _, nested := strings.Cut(f.Path, "/")
		c, ok := class[top]
		switch {
		case !ok:
		case nested:
			add(c, f.Path, f)
		case f.Dir: // the class folder, through a link
			for j := range f.Files {
				g := &f.Files[j]
				if !slices.ContainsFunc(strings.Split(g.Path, "/"), hidden) {
					add(c, top+"/"+g.Path, g)
				}
			}
		}
	}
	out := make([]imageFile, 0, len(files))
	byKeras := func(a, b entry) int { // by folder path, then by file name
		if a.dir != b.dir {
			return strings.Compare(a.dir, b.dir)
		}
		return strings.Compare(a.name, b.name)
	}
	for c, es := range found {
		if !slices.IsSortedFunc(es, byKeras) { // it is when no class has subfolders
			slices.SortStableFunc(es, byKeras)
		}
		for _, e := range es {
			im := imageFile{dir: dir, rel: e.rel, class: c}
			if !e.f.Dir {
				im.hash, im.hashed = e.f.XXH3()
			}
			out = append(out, im)
		}
	}
	return out
}

// classFiles returns the files of class c under root, in Keras's order.
func (r folderReader) classFiles(c int, root string) ([]imageFile, error) {
	type entry struct{ dir, name string }
	var found []entry
	walk := root
	if real, err := filepath.EvalSymlinks(root); err == nil {
		walk = real // a link to a folder is a class too; its files are named through the link
	}
	err := filepath.WalkDir(walk, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != walk && hidden(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			rel, err := filepath.Rel(walk, p)
			if err != nil {
				return err
			}
			found = append(found, entry{filepath.Dir(filepath.Join(root, rel)), d.Name()})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("folder dataset: %w", err)
	}
	// Keras's order: by folder path, then by file name.
	slices.SortStableFunc(found, func(a, b entry) int {
		if a.dir != b.dir {
			return strings.Compare(a.dir, b.dir)
		}
		return strings.Compare(a.name, b.name)
	})
	files := make([]imageFile, len(found))
	for i, e := range found {
		files[i] = imageFile{dir: e.dir, rel: e.name, class: c}
	}
	return files, nil
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") }
