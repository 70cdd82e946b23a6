package ingest

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/zeebo/xxh3"
	"golang.org/x/sync/errgroup"

	"github.com/siamese-pipeline/siamese/imageio"
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
}

func (r folderReader) paths() []string { return []string{r.dir} }

// imageFile is one file of a class folder.
type imageFile struct {
	path  string
	class int
}

func (r folderReader) read(ctx context.Context) (*dataParts, error) {
	classes, files, err := r.list()
	if err != nil {
		return nil, err
	}
	px := r.size * r.size
	var old *folderCache
	if r.cache != "" {
		if old, err = loadCache(cacheFile(r.cache, r.size, r.filter), r.size, r.filter); err != nil {
			r.log.Warn("decoding every image: the cache of decoded images cannot be used", "err", err)
		}
	}
	lk := newLookup(old, px)
	pixels := make([][]uint8, len(files))
	seen := make([]cached, len(files))
	bad := make([]error, len(files))
	var decoded atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, f := range files {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			if !imageio.IsImage(f.path) {
				bad[i] = fmt.Errorf("%s: not an image file (want %s)", f.path, strings.Join(imageio.Exts, ", "))
			} else {
				var fresh bool
				pixels[i], seen[i], fresh, bad[i] = r.image(f.path, lk)
				if fresh {
					decoded.Add(1)
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
	p := part{rows: r.size, cols: r.size}
	counts := make([]int, len(classes))
	next := &folderCache{Side: r.size, Filter: r.filter}
	for i, f := range files {
		if bad[i] != nil {
			r.log.Warn("skipped a bad image", "err", bad[i])
			continue
		}
		seen[i].Off = len(p.images)
		next.Images = append(next.Images, seen[i])
		p.images = append(p.images, pixels[i]...)
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
	if r.cache != "" {
		next.pixels = p.images
		if err := saveCache(cacheFile(r.cache, r.size, r.filter), next); err != nil {
			r.log.Warn("the decoded images could not be cached: the next run decodes them again", "err", err)
		}
	}
	return &dataParts{parts: []part{p}, classes: classes}, nil
}

// image returns the pixels of the image file at path: the cached ones when
// its size and mtime, or else its bytes, are those of a cached file;
// otherwise decoded (fresh). It describes the file for the next cache.
func (r folderReader) image(path string, lk lookup) (px []uint8, c cached, fresh bool, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, c, false, err
	}
	info, err := os.Stat(abs)
	if err != nil {
		return nil, c, false, fmt.Errorf("unreadable image %w", err)
	}
	c = cached{Path: abs, Size: info.Size(), MTime: info.ModTime().UnixNano()}
	if im, px := lk.unchanged(abs, c.Size, c.MTime); im != nil {
		c.Hash = im.Hash
		return px, c, false, nil
	}
	data, err := imageio.ReadFile(path)
	if err != nil {
		return nil, c, false, fmt.Errorf("unreadable image %w", err)
	}
	c.Hash = xxh3.Hash128(data)
	if px := lk.same(c.Hash); px != nil {
		return px, c, false, nil
	}
	if px, err = imageio.Decode(data, r.size, r.filter); err != nil {
		return nil, c, true, fmt.Errorf("unreadable image %s: %w", path, err)
	}
	return px, c, true, nil
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
	var files []imageFile
	for c, name := range classes {
		type entry struct{ dir, name string }
		var found []entry
		root := filepath.Join(r.dir, name)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != root && hidden(d.Name()) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() {
				found = append(found, entry{filepath.Dir(p), d.Name()})
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("folder dataset: %w", err)
		}
		// Keras's order: by folder path, then by file name.
		slices.SortStableFunc(found, func(a, b entry) int {
			if a.dir != b.dir {
				return strings.Compare(a.dir, b.dir)
			}
			return strings.Compare(a.name, b.name)
		})
		for _, e := range found {
			files = append(files, imageFile{path: filepath.Join(e.dir, e.name), class: c})
		}
	}
	return classes, files, nil
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") }
