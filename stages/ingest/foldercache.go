package ingest

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/zeebo/xxh3"

	"github.com/siamese-pipeline/siamese/internal/atomicfile"
)

// A folder dataset's ingest decodes only the image files that are new or
// changed since its last run: the decoded pixels of every image it read
// are kept in the stage's cache directory (runner.Env.CacheDir), one cache
// per image size and filter, by the content hash of the file they came
// from. The hash is the runner's: Track describes the folder, hashing
// again only the files whose size or mtime changed since the stage's last
// run, so an unchanged file is not read, and a renamed, moved or copied
// one is known by its bytes. A file the runner did not describe is read
// and hashed. The cache only ever spares work: the outputs are those of a
// from-scratch ingest, and a cache that is missing, damaged or of other
// settings means a full ingest.

// cacheVersion changes whenever decoding would give other pixels for the
// same file, size and filter (imageio's code), or the format changes.
const cacheVersion = 4

// folderCache is the cache: an index file (gob) of the images' content
// hashes and, beside it, their pixels one after the other in the same
// order, in a file of their own (read whole in one call), named by their
// checksum, which the index records. The pixel file is a hard link to the
// images.npy the ingest wrote (its pixels are the cache's, after the
// header: Off bytes), so that caching them writes nothing; where a link
// cannot be made, a copy of the pixels.
type folderCache struct {
	Version int
	Side    int
	Filter  string
	Hashes  []byte   // 16 bytes (xxh3-128, big-endian) per image
	pixels  []byte   // not in the index: the pixel file beside it
	pieces  [][]byte // or, to save, the pixels of each image
	Off     int      // where the pixels start in the pixel file
	Sum     uint64   // xxh3 of pixels, against a damaged or stray pixel file
	HashSum uint64   // xxh3 of Hashes, against an index torn but decodable
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
	if c.Version != cacheVersion || c.Side != side || c.Filter != filter {
		return nil, fmt.Errorf("%s: version %d, %d pixels a side, filter %q: not this run's", path, c.Version, c.Side, c.Filter)
	}
	if xxh3.Hash(c.Hashes) != c.HashSum {
		return nil, fmt.Errorf("%s: the hashes do not match their checksum", path)
	}
	if c.pixels, err = os.ReadFile(pixelFile(path, c.Sum)); err != nil {
		return nil, err
	}
	if c.Off < 0 || c.Off > len(c.pixels) {
		return nil, fmt.Errorf("%s: the pixels start at %d of %d bytes", path, c.Off, len(c.pixels))
	}
	if c.pixels = c.pixels[c.Off:]; xxh3.Hash(c.pixels) != c.Sum {
		return nil, fmt.Errorf("%s: the pixels do not match their checksum", pixelFile(path, c.Sum))
	}
	if len(c.Hashes)%16 != 0 || len(c.Hashes)/16*side*side != len(c.pixels) {
		return nil, fmt.Errorf("%s: %d bytes of hashes for %d bytes of pixels", path, len(c.Hashes), len(c.pixels))
	}
	return &c, nil
}

// lookup finds the cached pixels of a file by its content hash.
type lookup struct {
	c      *folderCache
	px     int
	byHash map[xxh3.Uint128]int // image index
}

func newLookup(c *folderCache, px int) lookup {
	if c == nil {
		return lookup{}
	}
	n := len(c.Hashes) / 16
	l := lookup{c: c, px: px, byHash: make(map[xxh3.Uint128]int, n)}
	for i := range n {
		h := c.Hashes[16*i:]
		l.byHash[xxh3.Uint128{Hi: binary.BigEndian.Uint64(h), Lo: binary.BigEndian.Uint64(h[8:])}] = i
	}
	return l
}

// same returns the pixels of a cached file whose bytes hashed to h.
func (l lookup) same(h xxh3.Uint128) []byte {
	if i, ok := l.byHash[h]; ok {
		return l.c.pixels[i*l.px : (i+1)*l.px]
	}
	return nil
}

// pixelFile is the path of the pixels, of hash sum, of the index at path.
func pixelFile(path string, sum uint64) string {
	return fmt.Sprintf("%s.%016x.pixels", strings.TrimSuffix(path, ".gob"), sum)
}

// saveCache writes c to path atomically: the pixels first, to a file of
// their own that the index names, then the index. The pixels are those of
// the file images (after its header), which saveCache links; where it
// cannot, it writes a copy. A run killed while it saves leaves the old
// cache or the new one, never part of one; the pixels of the old one are
// removed once the new index is in place. Nothing is synced to disk: a
// cache lost or torn by a crash fails its checksum, and the next ingest
// decodes everything.
func saveCache(path string, c *folderCache, images string) error {
	h, n := xxh3.New(), 0
	for _, p := range c.pieces {
		h.Write(p)
		n += len(p)
	}
	c.Version, c.Sum, c.HashSum = cacheVersion, h.Sum64(), xxh3.Hash(c.Hashes)
	pixels := pixelFile(path, c.Sum)
	if err := linkPixels(c, n, images, pixels); err != nil {
		c.Off = 0
		if err := atomicfile.Replace(pixels, slices.Concat(c.pieces...)); err != nil {
			return err
		}
	}
	var index bytes.Buffer
	if err := gob.NewEncoder(&index).Encode(c); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := atomicfile.Replace(path, index.Bytes()); err != nil {
		return err
	}
	stale, _ := filepath.Glob(strings.TrimSuffix(path, ".gob") + ".*.pixels")
	torn, _ := filepath.Glob(strings.TrimSuffix(path, ".gob") + ".*.pixels.tmp") // left by a killed run
	for _, f := range append(stale, torn...) {
		if f != pixels {
			os.Remove(f)
		}
	}
	return nil
}

// linkPixels makes pixels a hard link to images, whose last n bytes must
// be c's pixels, and sets c.Off.
func linkPixels(c *folderCache, n int, images, pixels string) error {
	st, err := os.Stat(images)
	if err != nil {
		return err
	}
	if st.Size() < int64(n) {
		return fmt.Errorf("%s: %d bytes, fewer than its %d pixels", images, st.Size(), n)
	}
	c.Off = int(st.Size()) - n
	tmp := pixels + ".tmp"
	os.Remove(tmp)
	if err := os.Link(images, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, pixels)
}
