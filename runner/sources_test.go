package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sourceFixture is the test pipeline whose gen stage reads, besides its
// params, a file and a directory outside the artifacts root, and reports
// both with Track: gen.txt ends with the sum of their bytes.
type sourceFixture struct {
	*fixture
	file, dir string
}

func newSourceFixture(t *testing.T) *sourceFixture {
	f := &sourceFixture{fixture: newFixture(t)}
	ext := t.TempDir()
	f.file, f.dir = filepath.Join(ext, "t10k-labels-idx1-ubyte.gz"), filepath.Join(ext, "images")
	f.write("t10k-labels-idx1-ubyte.gz", "labels")
	f.write("images/shirt/a.png", "aaaa")
	f.write("images/shirt/b.png", "bbbb")
	f.write("images/shoe/c.png", "cccc")
	gen := f.stages["gen"].fn
	f.stages["gen"].fn = func(ctx context.Context, env *Env) error {
		if err := env.Track(f.file); err != nil {
			return err
		}
		if err := env.Track(f.dir); err != nil {
			return err
		}
		if err := gen(ctx, env); err != nil {
			return err
		}
		data := f.read("t10k-labels-idx1-ubyte.gz")
		filepath.WalkDir(f.dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && strings.HasPrefix(d.Name(), ".") && d.IsDir() {
				return filepath.SkipDir
			}
			if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
				b, _ := os.ReadFile(p)
				data += string(b)
			}
			return err
		})
		sum := 0
		for _, c := range []byte(data) {
			sum += int(c)
		}
		out, err := os.OpenFile(env.Out("gen.txt"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = fmt.Fprintln(out, sum)
		return err
	}
	return f
}

// write writes an external file, by its path under the temporary
// directory of the sources.
func (f *sourceFixture) write(rel, data string) {
	f.t.Helper()
	p := filepath.Join(filepath.Dir(f.file), rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *sourceFixture) read(rel string) string {
	data, _ := os.ReadFile(filepath.Join(filepath.Dir(f.file), rel))
	return string(data)
}

func (f *sourceFixture) ext(rel string) string { return filepath.Join(filepath.Dir(f.file), rel) }

// reasons dry-runs and returns each stage's reason to run, "" if none.
func (f *fixture) reasons() map[string]string {
	f.t.Helper()
	rep, err := f.runner().Run(context.Background(), Options{DryRun: true})
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rep.Results {
		out[r.Stage] = r.Reason
	}
	return out
}

// keepMTime changes a file's content and sets its mtime back, as a write
// within the filesystem's timestamp granularity would leave it.
func keepMTime(t *testing.T, name string, change func()) {
	t.Helper()
	st, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	change()
	if err := os.Chtimes(name, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
}

func TestTrackedSources(t *testing.T) {
	const all = "gen=ran double=ran side=ran sum=ran"
	tests := []struct {
		name   string
		change func(f *sourceFixture)
		reason string // gen's reason to rerun; "" when it is up to date
	}{
		{"one byte of a file changed", func(f *sourceFixture) {
			f.write("t10k-labels-idx1-ubyte.gz", "labelz")
		}, "source changed: t10k-labels-idx1-ubyte.gz"},
		{"one byte changed, same size, same mtime as recorded is trusted", func(f *sourceFixture) {
			keepMTime(t, f.file, func() { f.write("t10k-labels-idx1-ubyte.gz", "labelz") })
		}, ""},
		{"file touched, not changed", func(f *sourceFixture) {
			later := time.Now().Add(time.Hour)
			os.Chtimes(f.file, later, later)
		}, ""},
		{"file removed", func(f *sourceFixture) { os.Remove(f.file) }, "source removed: t10k-labels-idx1-ubyte.gz"},
		{"file in a directory changed", func(f *sourceFixture) {
			f.write("images/shoe/c.png", "cccC")
		}, "source changed: images/shoe/c.png"},
		{"file added to a directory", func(f *sourceFixture) {
			f.write("images/shoe/d.png", "dddd")
		}, "source added: images/shoe/d.png"},
		{"file removed from a directory", func(f *sourceFixture) {
			os.Remove(f.ext("images/shirt/a.png"))
		}, "source removed: images/shirt/a.png"},
		{"class folder added", func(f *sourceFixture) {
			f.write("images/bag/e.png", "eeee")
		}, "source added: images/bag/e.png"},
		{"several changes", func(f *sourceFixture) {
			os.Remove(f.ext("images/shirt/a.png"))
			f.write("images/shoe/c.png", "cccC")
		}, "source changed: images/shoe/c.png (and 1 more)"},
		{"file in a directory touched, not changed", func(f *sourceFixture) {
			later := time.Now().Add(time.Hour)
			os.Chtimes(f.ext("images/shirt/b.png"), later, later)
		}, ""},
		{"directory removed", func(f *sourceFixture) { os.RemoveAll(f.dir) }, "source removed: images"},
		{"hidden files added to a directory", func(f *sourceFixture) {
			f.write("images/shirt/.DS_Store", "finder")
			f.write("images/.ipynb_checkpoints/a.png", "aaaa")
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSourceFixture(t)
			if got, err := f.run(Options{}); err != nil || got != all {
				t.Fatalf("first run: %s, %v", got, err)
			}
			rec, err := readRecord(f.root, "gen")
			if err != nil || len(rec.Sources) != 2 || rec.Sources[0].Path != f.dir || len(rec.Sources[0].Files) != 3 ||
				rec.Sources[1].Path != f.file || rec.Sources[1].Size != 6 || rec.Sources[1].Hash == "" || rec.Sources[1].MTime == 0 {
				t.Fatalf("gen's record of its sources: %+v, %v", rec, err)
			}
			tt.change(f)
			reasons := f.reasons()
			if reasons["gen"] != tt.reason {
				t.Errorf("gen's reason: %q, want %q", reasons["gen"], tt.reason)
			}
			if tt.reason == "" {
				if got, err := f.run(Options{}); err != nil || strings.Contains(got, "ran") {
					t.Errorf("run after %s: %s, %v", tt.name, got, err)
				}
				return
			}
			if reasons["double"] != "upstream stage gen runs" {
				t.Errorf("double's reason: %q", reasons["double"])
			}
			if strings.Contains(tt.reason, "removed: t10k") || strings.HasSuffix(tt.reason, "removed: images") {
				return // gen cannot run without it
			}
			if got, err := f.run(Options{}); err != nil || got != all {
				t.Errorf("run after %s: %s, %v", tt.name, got, err)
			}
			if got, err := f.run(Options{}); err != nil || strings.Contains(got, "ran") {
				t.Errorf("third run: %s, %v", got, err)
			}
		})
	}
}

// TestTouchedSourceIsHashedOnce checks that a run that finds a source
// touched but unchanged records its new mtime: a later change that keeps
// that mtime and size goes unseen, as it would only if the file was not
// hashed again.
func TestTouchedSourceIsHashedOnce(t *testing.T) {
	f := newSourceFixture(t)
	if _, err := f.run(Options{}); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour).Truncate(time.Second)
	for _, p := range []string{f.file, f.ext("images/shoe/c.png")} {
		if err := os.Chtimes(p, later, later); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := f.run(Options{}); err != nil || strings.Contains(got, "ran") {
		t.Fatalf("after touching: %s, %v", got, err)
	}
	rec, err := readRecord(f.root, "gen")
	if err != nil || rec.Sources[1].MTime != later.UnixNano() || rec.Sources[0].Files[2].MTime != later.UnixNano() {
		t.Fatalf("the record keeps the old mtimes: %+v, %v", rec, err)
	}
	keepMTime(t, f.file, func() { f.write("t10k-labels-idx1-ubyte.gz", "labelz") })
	if r := f.reasons()["gen"]; r != "" {
		t.Errorf("the touched source was hashed again: %q", r)
	}
}

func TestTrackErrors(t *testing.T) {
	env := NewEnv("s", nil, nil, nil, t.TempDir(), nil)
	if err := env.Track(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("tracking a missing file: %v", err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "b"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "a"), nil, 0o644)
	for _, p := range []string{filepath.Join(dir, "b"), filepath.Join(dir, "a"), filepath.Join(dir, "b")} {
		if err := env.Track(p); err != nil {
			t.Fatal(err)
		}
	}
	if got := env.Tracked(); len(got) != 2 || got[0] != filepath.Join(dir, "a") || got[1] != filepath.Join(dir, "b") {
		t.Errorf("tracked %v", got)
	}
}

// TestStaleDescriptionsAreDropped plans a run (which describes gen's
// sources for it), changes a source, then runs with --force, whose plan
// describes nothing: gen describes its sources itself, as they are now,
// not as the earlier plan found them, and the next plan finds it up to date.
func TestStaleDescriptionsAreDropped(t *testing.T) {
	f := newSourceFixture(t)
	if _, err := f.run(Options{}); err != nil {
		t.Fatal(err)
	}
	r := f.runner()
	f.write("images/shoe/c.png", "cccC")
	if _, err := r.plan(Options{}); err != nil {
		t.Fatal(err)
	}
	f.write("images/shoe/c.png", "cccCC")
	if _, err := r.Run(context.Background(), Options{Force: true}); err != nil {
		t.Fatal(err)
	}
	if reason := f.reasons()["gen"]; reason != "" {
		t.Errorf("after a forced run, gen would run again: %q (its record took an earlier plan's description)", reason)
	}
}
