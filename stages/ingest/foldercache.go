package ingest

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/zeebo/xxh3"

	"github.com/siamese-pipeline/siamese/internal/atomicfile"
)

// A folder dataset's ingest decodes only the image files that are new or
// changed since its last run: the decoded pixels of every image it read
// are kept in the stage's cache directory (runner.Env.CacheDir), one file
// per image size and filter, with each file's path, size, mtime and
// content hash. A file whose size and mtime are unchanged, or whose bytes
// hash as a cached file's did (a file renamed or copied), takes the
// cached pixels; the others are decoded. The cache only ever spares work:
// the outputs are those of a from-scratch ingest, and a cache that is
// missing, damaged or of other settings means a full ingest.

// cacheVersion changes whenever decoding would give other pixels for the
// same file, size and filter (imageio's code), or the format changes.
const cacheVersion = 2

// cached is one decoded image of the cache.
type cached struct {
	Path  string // absolute
	Size  int64
	MTime int64 // nanoseconds
	Hash  xxh3.Uint128
	Off   int // offset of its pixels in folderCache.pixels
}

// folderCache is the cache: an index file (gob) and, beside it, the
// pixels of its images one after the other in a file of their own (read
// whole in one call: decoding 80 MB through gob took ten times longer),
// named by their hash, which the index records.
type folderCache struct {
	Version int
	Side    int
	Filter  string
	Images  []cached
	pixels  []byte // not in the index: the pixel file beside it
	Sum     uint64 // xxh3 of pixels, against a damaged or stray pixel file
}

// cacheFile is the path of the cache of images decoded at side×side with
// filter, under dir.
func cacheFile(dir string, side int, filter string) string {
	return filepath.Join(dir, fmt.Sprintf("folder-%d-%s.gob", side, filter))
}

// loadCache reads the cache at path for side and filter. A missing file
// is an empty cache and no error; a file that cannot be used is an error
// (the caller warns, and decodes everything).
func loadCache(path string, side int, filter string) (*folderCache, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var c folderCache
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	px := side * side
	if c.Version != cacheVersion || c.Side != side || c.Filter != filter {
		return nil, fmt.Errorf("%s: version %d, %d pixels a side, filter %q: not this run's", path, c.Version, c.Side, c.Filter)
	}
	if c.pixels, err = os.ReadFile(pixelFile(path, c.Sum)); err != nil {
		return nil, err
	}
	if xxh3.Hash(c.pixels) != c.Sum {
		return nil, fmt.Errorf("%s: the pixels do not match their checksum", pixelFile(path, c.Sum))
	}
	for _, im := range c.Images {
		if im.Off < 0 || im.Off%px != 0 || im.Off+px > len(c.pixels) {
			return nil, fmt.Errorf("%s: image %s lies outside the pixels", path, im.Path)
		}
	}
	return &c, nil
}

// lookup finds the cached pixels of files: by path, size and mtime, or
// else by content hash.
type lookup struct {
	c      *folderCache
	px     int
	byPath map[string]*cached
	byHash map[xxh3.Uint128]*cached
}

func newLookup(c *folderCache, px int) lookup {
	l := lookup{c: c, px: px, byPath: map[string]*cached{}, byHash: map[xxh3.Uint128]*cached{}}
	if c == nil {
		return l
	}
	for i := range c.Images {
		im := &c.Images[i]
		l.byPath[im.Path], l.byHash[im.Hash] = im, im
	}
	return l
}

// unchanged returns the cached image at path if its size and mtime are
// those given.
func (l lookup) unchanged(path string, size, mtime int64) (*cached, []byte) {
	if im := l.byPath[path]; im != nil && im.Size == size && im.MTime == mtime {
		return im, l.c.pixels[im.Off : im.Off+l.px]
	}
	return nil, nil
}

// same returns the pixels of a cached file whose bytes hashed to h.
func (l lookup) same(h xxh3.Uint128) []byte {
	if im := l.byHash[h]; im != nil {
		return l.c.pixels[im.Off : im.Off+l.px]
	}
	return nil
}

// pixelFile is the path of the pixels, of hash sum, of the index at path.
func pixelFile(path string, sum uint64) string {
	return fmt.Sprintf("%s.%016x.pixels", strings.TrimSuffix(path, ".gob"), sum)
}

// saveCache writes c to path atomically: the pixels first, to a file of
// their own that the index names, then the index. A run killed while it
// writes leaves the old cache or the new one, never part of one; the
// pixels of the old one are removed once the new index is in place.
func saveCache(path string, c *folderCache) error {
	c.Version, c.Sum = cacheVersion, xxh3.Hash(c.pixels)
	pixels := pixelFile(path, c.Sum)
	if err := atomicfile.WriteFile(pixels, c.pixels); err != nil {
		return err
	}
	var index bytes.Buffer
	if err := gob.NewEncoder(&index).Encode(c); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, index.Bytes()); err != nil {
		return err
	}
	stale, _ := filepath.Glob(strings.TrimSuffix(path, ".gob") + ".*.pixels")
	for _, f := range stale {
		if f != pixels {
			os.Remove(f)
		}
	}
	return nil
}
