package ingest

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

// uniformGray is a w×h gray image of one value.
func uniformGray(w, h int, v uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	return img
}

// grayPNG encodes a w×h gray image of one value.
func grayPNG(t *testing.T, w, h int, v uint8) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, uniformGray(w, h, v)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func grayJPEG(t *testing.T, w, h int, v uint8) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, uniformGray(w, h, v), &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// writeTree writes files by their slash-separated paths under dir.
func writeTree(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type folderResult struct {
	images  []uint8
	shape   []int
	labels  []uint8
	classes string
	tracked []string
}

// runFolder runs ingest over a folder dataset with params set over the
// defaults.
func runFolder(t *testing.T, ctx context.Context, dir string, set map[string]any) (folderResult, error) {
	t.Helper()
	p := stagetest.Params(New(), map[string]any{"dataset": DatasetFolder, "source": dir})
	for k, v := range set {
		p[k] = v
	}
	if err := checkParams(p); err != nil {
		t.Fatalf("params: %v", err)
	}
	out := t.TempDir()
	env := runner.NewEnv("ingest", p, nil, map[string]string{
		OutImages: filepath.Join(out, OutImages), OutLabels: filepath.Join(out, OutLabels),
		OutClasses: filepath.Join(out, OutClasses),
	}, t.TempDir(), nil)
	if err := New().Run(ctx, env); err != nil {
		return folderResult{}, err
	}
	var r folderResult
	var err error
	if r.images, r.shape, err = artifacts.ReadNPY[uint8](filepath.Join(out, OutImages)); err != nil {
		t.Fatal(err)
	}
	if r.labels, _, err = artifacts.ReadNPY[uint8](filepath.Join(out, OutLabels)); err != nil {
		t.Fatal(err)
	}
	names, err := os.ReadFile(filepath.Join(out, OutClasses))
	if err != nil {
		t.Fatal(err)
	}
	r.classes, r.tracked = string(names), env.Tracked()
	return r, nil
}

func TestFolderDataset(t *testing.T) {
	dir := t.TempDir()
	// Three classes of 3, 1 and 2 images; sizes other than 28×28 among
	// them, a JPEG, a nested folder; hidden files and a file outside the
	// class folders are left out.
	writeTree(t, dir, map[string][]byte{
		"shirt/b.png":         grayPNG(t, 28, 28, 20),
		"shirt/a.png":         grayPNG(t, 28, 28, 10),
		"shirt/sub/0.png":     grayPNG(t, 40, 30, 30), // after the files directly in shirt/, as Keras lists them
		"bag/x.PNG":           grayPNG(t, 7, 9, 40),
		"ankle boot/z.jpeg":   grayJPEG(t, 28, 28, 128),
		"ankle boot/y.jpg":    grayJPEG(t, 64, 64, 128),
		"shirt/.DS_Store":     []byte("junk"),
		".hidden/q.png":       grayPNG(t, 28, 28, 99),
		"README.txt":          []byte("not a class"),
		"shirt/.cache/nb.png": []byte("junk"),
	})
	r, err := runFolder(t, context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.classes != "ankle boot\nbag\nshirt\n" {
		t.Errorf("classes.txt %q", r.classes)
	}
	if !slices.Equal(r.shape, []int{6, 28, 28}) {
		t.Fatalf("images.npy shape %v", r.shape)
	}
	if want := []uint8{0, 0, 1, 2, 2, 2}; !slices.Equal(r.labels, want) {
		t.Errorf("labels %v, want %v", r.labels, want)
	}
	// Uniform images stay uniform through every resize; PNGs of 28×28
	// are copied.
	for i, want := range []uint8{128, 128, 40, 10, 20, 30} {
		img := r.images[i*784 : (i+1)*784]
		if i >= 2 && !slices.Equal(img, bytes.Repeat([]byte{want}, 784)) || i < 2 && (img[0] < want-2 || img[0] > want+2) {
			t.Errorf("image %d: %v…, want %d", i, img[:4], want)
		}
	}
	if abs, _ := filepath.Abs(dir); !slices.Equal(r.tracked, []string{abs}) {
		t.Errorf("tracked %v, want the folder", r.tracked)
	}

	small, err := runFolder(t, context.Background(), dir, map[string]any{"image_size": 8, "filter": "nearest"})
	if err != nil || !slices.Equal(small.shape, []int{6, 8, 8}) {
		t.Errorf("image_size 8: shape %v, %v", small.shape, err)
	}
}

func TestFolderBadImages(t *testing.T) {
	good := func(t *testing.T) map[string][]byte {
		return map[string][]byte{"a/1.png": grayPNG(t, 5, 5, 1), "a/2.png": grayPNG(t, 5, 5, 2), "b/1.png": grayPNG(t, 5, 5, 3)}
	}
	tests := []struct {
		name    string
		files   map[string][]byte
		bad     string // the file the error names, and skip leaves out
		wantErr string // also in the error
	}{
		{"not an image file", map[string][]byte{"b/notes.txt": []byte("hello")}, "b/notes.txt", "not an image file"},
		{"not a png", map[string][]byte{"a/3.png": []byte("hello")}, "a/3.png", "unreadable image"},
		{"truncated png", map[string][]byte{"b/2.png": grayPNG(t, 5, 5, 1)[:40]}, "b/2.png", "unreadable image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, good(t))
			writeTree(t, dir, tt.files)
			_, err := runFolder(t, context.Background(), dir, nil)
			bad := filepath.Join(dir, filepath.FromSlash(tt.bad))
			if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), tt.wantErr) ||
				!strings.Contains(err.Error(), "on_bad_image: skip") {
				t.Fatalf("error %v, want one naming %s", err, bad)
			}
			r, err := runFolder(t, context.Background(), dir, map[string]any{"on_bad_image": BadImageSkip})
			if err != nil || !slices.Equal(r.labels, []uint8{0, 0, 1}) {
				t.Errorf("skip: labels %v, %v", r.labels, err)
			}
		})
	}
}

func TestFolderLayoutErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"one class", map[string][]byte{"a/1.png": grayPNG(t, 5, 5, 1)}, "1 class folders, want 2 to 256"},
		{"no class", map[string][]byte{"1.png": grayPNG(t, 5, 5, 1)}, "0 class folders"},
		{"empty class", map[string][]byte{"a/1.png": grayPNG(t, 5, 5, 1), "b/.keep": nil}, "class folder b holds no image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tt.files)
			if _, err := runFolder(t, context.Background(), dir, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := runFolder(t, context.Background(), filepath.Join(t.TempDir(), "nope"), nil); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing folder: %v", err)
	}
}

func TestFolderCancel(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{}
	img := grayPNG(t, 200, 200, 9)
	for i := range 50 {
		files[string(rune('a'+i%2))+"/"+strings.Repeat("x", 1+i/2)+".png"] = img
	}
	writeTree(t, dir, files)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if _, err := runFolder(t, ctx, dir, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %v", d)
	}
}

func TestParamRules(t *testing.T) {
	tests := []struct {
		set  map[string]any
		want string // "" for no error
	}{
		{map[string]any{}, ""},
		{map[string]any{"dataset": DatasetFolder}, "needs source"},
		{map[string]any{"dataset": DatasetFolder, "source": "x", "image_size": 64}, ""},
		{map[string]any{"image_size": 32}, "fashion's images are 28×28"},
		{map[string]any{"dataset": "mnist", "filter": "nearest"}, ""},
	}
	for _, tt := range tests {
		err := checkParams(stagetest.Params(New(), tt.set))
		if (tt.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want %q", tt.set, err, tt.want)
		}
	}
}

// TestDescribedListIsTheWalks lists a folder twice, from the runner's
// description of it and by walking it: the same files in the same order,
// each with the content hash of its bytes where the description gave one.
func TestDescribedListIsTheWalks(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{}
	for i, name := range []string{
		"shirt/b.png", "shirt/a.png", "shirt/sub/0.png", "shirt/sub-x/1.png", "shirt/z/y/2.png", "shirt/a-b.png",
		"shirt/sub/deeper/3.png", "bag/x.PNG", "bag/Y.png", "ankle boot/z.jpeg", "ankle boot/ä.png",
		"shirt/.DS_Store", "shirt/.cache/nb.png", ".hidden/q.png", "README.txt", "bag/notes.txt",
	} {
		files[name] = []byte{byte(i), 1, 2}
	}
	writeTree(t, dir, files)
	if err := os.MkdirAll(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A class folder that is a link to a folder elsewhere.
	elsewhere := t.TempDir()
	writeTree(t, elsewhere, map[string][]byte{"x.png": {7}, "sub/y.png": {8}, ".hid.png": {9}})
	if err := os.Symlink(elsewhere, filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	env := runner.NewEnv("ingest", nil, nil, nil, t.TempDir(), nil)
	if err := env.Track(dir); err != nil {
		t.Fatal(err)
	}
	walk := folderReader{dir: dir, log: slog.New(slog.DiscardHandler)}
	described := walk
	described.tracked = env.Source
	wc, wf, err := walk.list()
	if err != nil {
		t.Fatal(err)
	}
	dc, df, err := described.list()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(wc, dc) {
		t.Fatalf("classes: walked %v, described %v", wc, dc)
	}
	if len(wf) != len(df) || len(wf) != 14 {
		t.Fatalf("walked %d files, described %d; want 14", len(wf), len(df))
	}
	for i := range wf {
		if wf[i].path() != df[i].path() || wf[i].class != df[i].class || wf[i].hashed {
			t.Errorf("file %d: walked %+v, described %+v", i, wf[i], df[i])
		}
		data, _ := os.ReadFile(df[i].path())
		if !df[i].hashed || df[i].hash != xxh3.Hash128(data) {
			t.Errorf("%s: described hash %v (%v), want that of its bytes", df[i].path(), df[i].hash, df[i].hashed)
		}
	}
}

// TestChangedWhileRead changes a file after the runner described the
// folder and before ingest reads it: the ingest fails (its record would
// name bytes its images do not hold), and names the file.
func TestChangedWhileRead(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string][]byte{"a/1.png": grayPNG(t, 5, 5, 1), "b/2.png": grayPNG(t, 5, 5, 2)})
	env := runner.NewEnv("ingest", nil, nil, nil, t.TempDir(), nil)
	if err := env.Track(dir); err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, map[string][]byte{"a/1.png": grayPNG(t, 5, 5, 9)})
	r := folderReader{dir: dir, size: 8, filter: "nearest", log: slog.New(slog.DiscardHandler), tracked: env.Source}
	if _, err := r.read(context.Background()); err == nil || !strings.Contains(err.Error(), "1.png changed while") {
		t.Errorf("a file changed after the description: %v", err)
	}
	r.tracked = nil // no description: nothing to disagree with
	if _, err := r.read(context.Background()); err != nil {
		t.Errorf("without a description: %v", err)
	}
}
