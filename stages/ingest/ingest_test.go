package ingest

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

// Fake datasets are small: 6 training and 4 test images of 28×28.
const fakeTrain, fakeTest = 6, 4

// idxFile encodes an IDX file of unsigned bytes.
func idxFile(magic uint32, dims []int, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// fakeFiles are the four gzipped IDX files of a fake dataset whose images
// are all `fill` and whose labels are all `fill` too.
func fakeFiles(fill byte) map[string][]byte {
	images := func(n int) []byte { return bytes.Repeat([]byte{fill}, n*28*28) }
	labels := func(n int) []byte { return bytes.Repeat([]byte{fill}, n) }
	return map[string][]byte{
		"train-images-idx3-ubyte.gz": gz(idxFile(2051, []int{fakeTrain, 28, 28}, images(fakeTrain))),
		"train-labels-idx1-ubyte.gz": gz(idxFile(2049, []int{fakeTrain}, labels(fakeTrain))),
		"t10k-images-idx3-ubyte.gz":  gz(idxFile(2051, []int{fakeTest, 28, 28}, images(fakeTest))),
		"t10k-labels-idx1-ubyte.gz":  gz(idxFile(2049, []int{fakeTest}, labels(fakeTest))),
	}
}

func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// fake replaces the datasets with small ones whose download hashes are
// those of fakeFiles(fill), and points the search directories at fresh
// temporary ones (empty until a test fills them).
type fake struct {
	debian, keras, cache string
}

func useFake(t *testing.T, fill byte) *fake {
	t.Helper()
	oldDatasets, oldDebian, oldKeras := datasets, debianRoot, kerasRoot
	t.Cleanup(func() { datasets, debianRoot, kerasRoot = oldDatasets, oldDebian, oldKeras })
	files := fakeFiles(fill)
	fashion := *oldDatasets["fashion"]
	for i := range fashion.idx {
		fashion.idx[i].sha256 = sha(files[fashion.idx[i].name])
	}
	fashion.trainN, fashion.testN = fakeTrain, fakeTest
	fashion.setDownload()
	mnist := *oldDatasets["mnist"]
	mnist.trainN, mnist.testN = fakeTrain, fakeTest
	npz := fakeNPZ(t, fill)
	mnist.npz = &remoteFile{"mnist.npz", sha(npz)}
	mnist.setDownload()
	datasets = map[string]*dataset{"fashion": &fashion, "mnist": &mnist}
	root := t.TempDir()
	f := &fake{filepath.Join(root, "debian"), filepath.Join(root, "keras"), filepath.Join(root, "cache")}
	debianRoot, kerasRoot = f.debian, f.keras
	return f
}

// fakeNPZ is a fake mnist.npz as Keras has it.
func fakeNPZ(t *testing.T, fill byte) []byte {
	t.Helper()
	dir := t.TempDir()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for _, m := range []struct {
		name  string
		shape []int
	}{{"x_train", []int{fakeTrain, 28, 28}}, {"y_train", []int{fakeTrain}}, {"x_test", []int{fakeTest, 28, 28}}, {"y_test", []int{fakeTest}}} {
		n := 1
		for _, d := range m.shape {
			n *= d
		}
		p := filepath.Join(dir, m.name+".npy")
		if err := artifacts.WriteNPY(p, bytes.Repeat([]byte{fill}, n), m.shape...); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(p)
		w, _ := z.Create(m.name + ".npy")
		w.Write(data)
	}
	z.Close()
	return b.Bytes()
}

// server serves files under /, counting requests.
type server struct {
	*httptest.Server
	files    map[string][]byte
	requests atomic.Int32
}

func newServer(t *testing.T, files map[string][]byte) *server {
	s := &server{files: files}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		b, ok := s.files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(s.Close)
	return s
}

type result struct {
	dir    string
	labels []uint8
	err    error
}

// runIngest runs the stage with params over the defaults; outputs go to a
// fresh directory.
func runIngest(t *testing.T, ctx context.Context, set map[string]any) result {
	t.Helper()
	p := stagetest.Params(New(), set)
	dir := t.TempDir()
	env := runner.NewEnv("ingest", p, nil, map[string]string{
		OutImages: filepath.Join(dir, OutImages), OutLabels: filepath.Join(dir, OutLabels),
		OutClasses: filepath.Join(dir, OutClasses),
	}, t.TempDir(), nil)
	r := result{dir: dir, err: New().Run(ctx, env)}
	if r.err == nil {
		images, shape, err := artifacts.ReadNPY[uint8](filepath.Join(dir, OutImages))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(shape, []int{fakeTrain + fakeTest, 28, 28}) {
			t.Fatalf("images.npy shape %v", shape)
		}
		labels, shape, err := artifacts.ReadNPY[uint8](filepath.Join(dir, OutLabels))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(shape, []int{fakeTrain + fakeTest}) {
			t.Fatalf("labels.npy shape %v", shape)
		}
		if images[0] != labels[0] {
			t.Fatalf("image fill %d, label %d", images[0], labels[0])
		}
		names, err := os.ReadFile(filepath.Join(dir, OutClasses))
		ds := datasets[p.String("dataset")]
		if err != nil || string(names) != strings.Join(ds.classes, "\n")+"\n" || len(ds.classes) != 10 {
			t.Fatalf("classes.txt: %q, %v", names, err)
		}
		r.labels = labels
	}
	return r
}

func TestIDXErrorsNameTheFile(t *testing.T) {
	useFake(t, 1)
	trainImages := gz(idxFile(2051, []int{fakeTrain, 28, 28}, make([]byte, fakeTrain*28*28)))
	cases := []struct {
		name, file string
		content    []byte
		want       string            // also in the error
		also       map[string][]byte // other files replaced
	}{
		{"truncated gzip", "train-images-idx3-ubyte.gz", trainImages[:len(trainImages)/2], "", nil},
		{"wrong magic", "train-labels-idx1-ubyte.gz", gz(idxFile(2051, []int{fakeTrain, 28, 28}, make([]byte, fakeTrain*28*28))), "magic", nil},
		{"count mismatch", "t10k-labels-idx1-ubyte.gz", gz(idxFile(2049, []int{fakeTest - 1}, make([]byte, fakeTest-1))), "labels", nil},
		{"wrong dims", "t10k-images-idx3-ubyte.gz", gz(idxFile(2051, []int{fakeTest, 27, 28}, make([]byte, fakeTest*27*28))), "27×28", nil},
		{"trailing bytes", "train-labels-idx1-ubyte.gz", gz(append(idxFile(2049, []int{fakeTrain}, make([]byte, fakeTrain)), 0, 0)), "after", nil},
		{"wrong count", "train-images-idx3-ubyte.gz", gz(idxFile(2051, []int{fakeTrain + 1, 28, 28}, make([]byte, (fakeTrain+1)*28*28))), "want 6",
			map[string][]byte{"train-labels-idx1-ubyte.gz": gz(idxFile(2049, []int{fakeTrain + 1}, make([]byte, fakeTrain+1)))}},
		{"missing file", "t10k-images-idx3-ubyte.gz", nil, "not found", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, fakeFiles(1))
			writeFiles(t, dir, tc.also)
			path := filepath.Join(dir, tc.file)
			if tc.content == nil {
				os.Remove(path)
			} else if err := os.WriteFile(path, tc.content, 0o644); err != nil {
				t.Fatal(err)
			}
			r := runIngest(t, context.Background(), map[string]any{"source": dir})
			if r.err == nil {
				t.Fatal("no error")
			}
			name := path
			if tc.content == nil {
				name = tc.file
			}
			if !strings.Contains(r.err.Error(), name) || !strings.Contains(r.err.Error(), tc.want) {
				t.Errorf("error %q does not name %s (and %q)", r.err, name, tc.want)
			}
			if _, err := os.Stat(filepath.Join(r.dir, OutImages)); err == nil {
				t.Error("images.npy written despite the error")
			}
		})
	}
}

// TestSourceOrder puts the dataset, each copy with its own fill, in each
// place and checks that params.source > Debian > Keras cache > cache >
// download.
func TestSourceOrder(t *testing.T) {
	places := []string{"params.source", "debian", "keras-cache", "cache", "download"}
	for i, want := range places {
		t.Run(want, func(t *testing.T) {
			f := useFake(t, 5) // the download's fill
			srv := newServer(t, fakeFiles(5))
			source := filepath.Join(t.TempDir(), "src")
			dirs := map[string]string{
				"params.source": source,
				"debian":        filepath.Join(f.debian, "fashion-mnist"),
				"keras-cache":   filepath.Join(f.keras, "fashion-mnist"),
				"cache":         filepath.Join(f.cache, "fashion-mnist"),
			}
			for j, p := range places[i:] {
				if p == "download" {
					continue
				}
				fill := byte(j + 1 + i)
				if p == "cache" {
					fill = 5 // must match the hashes
				}
				writeFiles(t, dirs[p], fakeFiles(fill))
			}
			set := map[string]any{"cache": f.cache, "mirror": srv.URL + "/"}
			if want == "params.source" {
				set["source"] = source
			}
			ds := datasets["fashion"]
			src, err := resolve(context.Background(), ds, strings.TrimSpace(stringOf(set["source"])), f.cache, srv.URL, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if src.kind != want {
				t.Errorf("source %s, want %s", src.kind, want)
			}
			r := runIngest(t, context.Background(), set)
			if r.err != nil {
				t.Fatal(r.err)
			}
			wantFill := byte(1 + i)
			if want == "cache" || want == "download" {
				wantFill = 5
			}
			if r.labels[0] != wantFill {
				t.Errorf("data from fill %d, want %d (%s)", r.labels[0], wantFill, want)
			}
			if got := srv.requests.Load(); (want == "download") != (got > 0) {
				t.Errorf("%d download requests", got)
			}
		})
	}
}

func stringOf(v any) string { s, _ := v.(string); return s }

func TestDownload(t *testing.T) {
	t.Run("good, then cached", func(t *testing.T) {
		f := useFake(t, 7)
		srv := newServer(t, fakeFiles(7))
		set := map[string]any{"cache": f.cache, "mirror": srv.URL}
		if r := runIngest(t, context.Background(), set); r.err != nil || r.labels[0] != 7 {
			t.Fatalf("err %v", r.err)
		}
		if n := srv.requests.Load(); n != 4 {
			t.Errorf("%d requests, want 4", n)
		}
		if r := runIngest(t, context.Background(), set); r.err != nil {
			t.Fatal(r.err)
		}
		if n := srv.requests.Load(); n != 4 {
			t.Errorf("%d requests after a cached run, want still 4", n)
		}
		// A cached file that no longer matches is downloaded again.
		os.WriteFile(filepath.Join(f.cache, "fashion-mnist", "t10k-labels-idx1-ubyte.gz"), []byte("junk"), 0o644)
		if r := runIngest(t, context.Background(), set); r.err != nil {
			t.Fatal(r.err)
		}
		if n := srv.requests.Load(); n != 5 {
			t.Errorf("%d requests after corrupting a cached file, want 5", n)
		}
	})
	t.Run("corrupted", func(t *testing.T) {
		f := useFake(t, 7)
		files := fakeFiles(7)
		bad := "train-images-idx3-ubyte.gz"
		files[bad] = fakeFiles(8)[bad] // a valid IDX file, but not the published one
		srv := newServer(t, files)
		r := runIngest(t, context.Background(), map[string]any{"cache": f.cache, "mirror": srv.URL})
		if r.err == nil || !strings.Contains(r.err.Error(), bad) || !strings.Contains(r.err.Error(), "SHA-256") {
			t.Fatalf("error %v, want a SHA-256 mismatch naming %s", r.err, bad)
		}
		entries, _ := os.ReadDir(filepath.Join(f.cache, "fashion-mnist"))
		for _, e := range entries {
			if strings.Contains(e.Name(), bad) {
				t.Errorf("%s left in the cache", e.Name())
			}
		}
	})
	t.Run("not found", func(t *testing.T) {
		f := useFake(t, 7)
		srv := newServer(t, map[string][]byte{})
		r := runIngest(t, context.Background(), map[string]any{"cache": f.cache, "mirror": srv.URL})
		if r.err == nil || !strings.Contains(r.err.Error(), "404") {
			t.Fatalf("error %v, want a 404", r.err)
		}
	})
}

func TestMNISTNPZ(t *testing.T) {
	t.Run("keras cache", func(t *testing.T) {
		f := useFake(t, 3)
		writeFiles(t, f.keras, map[string][]byte{"mnist.npz": fakeNPZ(t, 3)})
		r := runIngest(t, context.Background(), map[string]any{"dataset": "mnist", "cache": f.cache})
		if r.err != nil || r.labels[0] != 3 {
			t.Fatalf("err %v", r.err)
		}
	})
	t.Run("download", func(t *testing.T) {
		f := useFake(t, 3)
		srv := newServer(t, map[string][]byte{"mnist.npz": fakeNPZ(t, 3)})
		r := runIngest(t, context.Background(), map[string]any{"dataset": "mnist", "cache": f.cache, "mirror": srv.URL})
		if r.err != nil || r.labels[0] != 3 {
			t.Fatalf("err %v", r.err)
		}
	})
	t.Run("unknown dataset", func(t *testing.T) {
		useFake(t, 3)
		if r := runIngest(t, context.Background(), map[string]any{"dataset": "cifar"}); r.err == nil {
			t.Fatal("no error")
		}
	})
}

// TestCancel cancels a download that stalls: Run must return promptly,
// leaving nothing in the cache.
func TestCancel(t *testing.T) {
	f := useFake(t, 7)
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte{0x1f, 0x8b})
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	r := runIngest(t, ctx, map[string]any{"cache": f.cache, "mirror": srv.URL})
	if !errors.Is(r.err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", r.err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %v", d)
	}
	entries, _ := os.ReadDir(filepath.Join(f.cache, "fashion-mnist"))
	if len(entries) > 0 {
		t.Errorf("cache holds %v", entries)
	}
}
