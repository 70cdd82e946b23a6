package ingest

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

// writePNG writes a w×h grayscale PNG of noise drawn from seed.
func writePNG(t testing.TB, path string, seed uint64, w, h int) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 9))
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.UintN(256))
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ingestRun is one ingest of a folder: its outputs' bytes, and how many
// images it decoded (from its log).
type ingestRun struct {
	images, labels, classes []byte
	decoded                 int
	log                     string
	imagesPath              string // where the run wrote images.npy
}

var decodedAttr = regexp.MustCompile(`decoded=(\d+)`)

// ingestWith runs ingest over dir with the stage state (and so the cache)
// in state.
func ingestWith(t *testing.T, dir, state string, set map[string]any) ingestRun {
	t.Helper()
	p := stagetest.Params(New(), map[string]any{"dataset": DatasetFolder, "source": dir})
	for k, v := range set {
		p[k] = v
	}
	out := t.TempDir()
	var log bytes.Buffer
	env := runner.NewEnv("ingest", p, nil, map[string]string{
		OutImages: filepath.Join(out, OutImages), OutLabels: filepath.Join(out, OutLabels),
		OutClasses: filepath.Join(out, OutClasses),
	}, state, slog.New(slog.NewTextHandler(&log, nil)))
	if err := New().Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	r := ingestRun{imagesPath: filepath.Join(out, OutImages)}
	r.log = log.String()
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{OutImages, &r.images}, {OutLabels, &r.labels}, {OutClasses, &r.classes}} {
		data, err := os.ReadFile(filepath.Join(out, f.name))
		if err != nil {
			t.Fatal(err)
		}
		*f.dst = data
	}
	m := decodedAttr.FindStringSubmatch(r.log)
	if m == nil {
		t.Fatalf("no decoded count in the log:\n%s", r.log)
	}
	r.decoded, _ = strconv.Atoi(m[1])
	return r
}

func (r ingestRun) equal(o ingestRun) bool {
	return bytes.Equal(r.images, o.images) && bytes.Equal(r.labels, o.labels) && bytes.Equal(r.classes, o.classes)
}

// TestIncrementalIngest changes a folder between ingests that share a
// cache: each ingest decodes only what is new or changed, and writes what
// a from-scratch ingest of the same folder writes, byte for byte.
func TestIncrementalIngest(t *testing.T) {
	dir := t.TempDir()
	n := 0
	add := func(class string, k int) {
		for range k {
			n++
			writePNG(t, filepath.Join(dir, class, fmt.Sprintf("img%03d.png", n)), uint64(n), 20+n%11, 30-n%7)
		}
	}
	add("bolt", 12)
	add("nut", 9)
	add("washer", 7)
	state := t.TempDir()
	scratch := func() ingestRun { return ingestWith(t, dir, t.TempDir(), nil) }
	first := ingestWith(t, dir, state, nil)
	if first.decoded != 28 {
		t.Fatalf("first ingest decoded %d images, want all 28", first.decoded)
	}
	// Caching the pixels wrote nothing: the cache's pixel file is the
	// images.npy the ingest wrote.
	pixels, _ := filepath.Glob(filepath.Join(state, "cache", "folder-28-bilinear.*.pixels"))
	st1, err1 := os.Stat(first.imagesPath)
	if len(pixels) != 1 || err1 != nil {
		t.Fatalf("pixel files %v, images.npy %v", pixels, err1)
	}
	if st2, err := os.Stat(pixels[0]); err != nil || !os.SameFile(st1, st2) {
		t.Errorf("the cache's pixel file is not a link to images.npy: %v", err)
	}
	steps := []struct {
		name    string
		change  func()
		decoded int
	}{
		{"nothing changed", func() {}, 0},
		{"files added", func() { add("nut", 3); add("bolt", 2) }, 5},
		{"a file changed", func() { writePNG(t, filepath.Join(dir, "bolt", "img001.png"), 999, 25, 25) }, 1},
		{"files removed", func() {
			os.Remove(filepath.Join(dir, "washer", "img025.png"))
			os.Remove(filepath.Join(dir, "nut", "img014.png"))
		}, 0},
		{"a file renamed", func() {
			os.Rename(filepath.Join(dir, "bolt", "img002.png"), filepath.Join(dir, "bolt", "zz-renamed.png"))
		}, 0},
		{"a file moved to another class", func() {
			os.Rename(filepath.Join(dir, "bolt", "img003.png"), filepath.Join(dir, "washer", "img003.png"))
		}, 0},
		{"a file touched, not changed", func() {
			now := time.Now().Add(time.Hour)
			os.Chtimes(filepath.Join(dir, "nut", "img015.png"), now, now)
		}, 0},
		{"a file changed, same size and mtime", func() {
			// The fast path trusts size and mtime, as tracked sources
			// do; a new size or mtime is what a change shows.
			p := filepath.Join(dir, "washer", "img026.png")
			st, _ := os.Stat(p)
			writePNG(t, p, 4242, 26, 24)
			os.Chtimes(p, st.ModTime(), st.ModTime().Add(time.Second))
		}, 1},
	}
	for _, s := range steps {
		s.change()
		got, want := ingestWith(t, dir, state, nil), scratch()
		if !got.equal(want) {
			t.Fatalf("%s: the incremental ingest's outputs differ from a from-scratch ingest's", s.name)
		}
		if got.decoded != s.decoded {
			t.Errorf("%s: decoded %d images, want %d", s.name, got.decoded, s.decoded)
		}
	}

	t.Run("a copy of an image under another extension stays out", func(t *testing.T) {
		data, _ := os.ReadFile(filepath.Join(dir, "nut", "img015.png"))
		os.WriteFile(filepath.Join(dir, "nut", "copy.txt"), data, 0o644)
		defer os.Remove(filepath.Join(dir, "nut", "copy.txt"))
		skip := map[string]any{"on_bad_image": BadImageSkip}
		if got, want := ingestWith(t, dir, state, skip), ingestWith(t, dir, t.TempDir(), skip); !got.equal(want) {
			t.Errorf("the cached pixels of its bytes were taken for copy.txt")
		}
	})
	t.Run("another image size decodes everything", func(t *testing.T) {
		got := ingestWith(t, dir, state, map[string]any{"image_size": 16})
		want := ingestWith(t, dir, t.TempDir(), map[string]any{"image_size": 16})
		if !got.equal(want) || got.decoded != len(want.labels)-128 {
			t.Errorf("image_size 16: decoded %d, outputs equal %v", got.decoded, got.equal(want))
		}
		if again := ingestWith(t, dir, state, nil); again.decoded != 0 {
			t.Errorf("back to 28: decoded %d, want 0 (each size keeps its cache)", again.decoded)
		}
	})
	t.Run("another filter decodes everything", func(t *testing.T) {
		got := ingestWith(t, dir, state, map[string]any{"filter": "nearest"})
		if got.decoded != len(got.labels)-128 {
			t.Errorf("filter nearest: decoded %d of %d", got.decoded, len(got.labels)-128)
		}
	})

	damage := map[string]func(path string){
		"truncated": func(p string) {
			st, _ := os.Stat(p)
			os.Truncate(p, st.Size()/2)
		},
		"a pixel flipped": func(p string) {
			pixels, _ := filepath.Glob(strings.TrimSuffix(p, ".gob") + ".*.pixels")
			data, _ := os.ReadFile(pixels[0])
			data[len(data)-40] ^= 0x10
			os.WriteFile(pixels[0], data, 0o644)
		},
		"pixels missing": func(p string) {
			pixels, _ := filepath.Glob(strings.TrimSuffix(p, ".gob") + ".*.pixels")
			os.Remove(pixels[0])
		},
		"not a cache": func(p string) { os.WriteFile(p, []byte("hello"), 0o644) },
		"an index of more images than its pixels": func(p string) {
			rewriteIndex(p, func(c *folderCache) {
				c.Hashes = append(c.Hashes, make([]byte, 16)...)
				c.HashSum = xxh3.Hash(c.Hashes)
			})
		},
		"an index whose hashes are not its checksum's": func(p string) {
			rewriteIndex(p, func(c *folderCache) { c.Hashes[3] ^= 1 })
		},
	}
	for name, hurt := range damage {
		t.Run("damaged cache: "+name, func(t *testing.T) {
			ingestWith(t, dir, state, nil) // a good cache first
			caches, _ := filepath.Glob(filepath.Join(state, "cache", "folder-28-bilinear.gob"))
			if len(caches) != 1 {
				t.Fatalf("caches %v", caches)
			}
			hurt(caches[0])
			got := ingestWith(t, dir, state, nil)
			if !got.equal(scratch()) || got.decoded != len(got.labels)-128 {
				t.Errorf("decoded %d of %d; outputs equal %v", got.decoded, len(got.labels)-128, got.equal(scratch()))
			}
			if !bytes.Contains([]byte(got.log), []byte("the cache of decoded images cannot be used")) {
				t.Errorf("no warning:\n%s", got.log)
			}
		})
	}
}

// TestKillDuringIncrementalIngest kills (SIGKILL) an ingest that has a
// cache and new files to decode, at a random point, then ingests again:
// the outputs are those of a from-scratch ingest.
func TestKillDuringIncrementalIngest(t *testing.T) {
	if dir := os.Getenv("SIAMESE_INGEST_HELPER"); dir != "" {
		ingestWith(t, dir, os.Getenv("SIAMESE_INGEST_STATE"), nil)
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	dir, state := t.TempDir(), t.TempDir()
	for i := range 300 {
		writePNG(t, filepath.Join(dir, []string{"a", "b", "c"}[i%3], fmt.Sprintf("%04d.png", i)), uint64(i), 64, 64)
	}
	ingestWith(t, dir, state, nil)
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for round := range 3 {
		for i := range 400 {
			k := 1000*(round+1) + i
			writePNG(t, filepath.Join(dir, []string{"a", "b", "c"}[k%3], fmt.Sprintf("%04d.png", k)), uint64(k), 96, 96)
		}
		cmd := exec.Command(os.Args[0], "-test.run", "^TestKillDuringIncrementalIngest$")
		cmd.Env = append(os.Environ(), "SIAMESE_INGEST_HELPER="+dir, "SIAMESE_INGEST_STATE="+state)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(50+r.IntN(300)) * time.Millisecond
		time.Sleep(delay)
		cmd.Process.Kill()
		cmd.Wait()
		got, want := ingestWith(t, dir, state, nil), ingestWith(t, dir, t.TempDir(), nil)
		if !got.equal(want) {
			t.Fatalf("round %d, killed after %v: the outputs differ from a from-scratch ingest's", round, delay)
		}
		t.Logf("round %d: killed after %v; the next ingest decoded %d", round, delay, got.decoded)
	}
}

// rewriteIndex decodes the cache index at p, changes it and writes it back.
func rewriteIndex(p string, change func(c *folderCache)) {
	data, _ := os.ReadFile(p)
	var c folderCache
	gob.NewDecoder(bytes.NewReader(data)).Decode(&c)
	change(&c)
	var b bytes.Buffer
	gob.NewEncoder(&b).Encode(&c)
	os.WriteFile(p, b.Bytes(), 0o644)
}
