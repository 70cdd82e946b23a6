package runner

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A directory's hash covers where each file lies in it, not only the
// files' bytes: an image moved from one class folder to another changes
// its label, and must change the hash.
func TestDirectoryHashCoversPaths(t *testing.T) {
	write := func(dir, rel, data string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		a, b  map[string]string
		equal bool
	}{
		{"same files", map[string]string{"shirt/a.png": "aaaa", "shoe/c.png": "cccc"},
			map[string]string{"shirt/a.png": "aaaa", "shoe/c.png": "cccc"}, true},
		{"a file moved to another folder", map[string]string{"shirt/a.png": "aaaa", "shoe/c.png": "cccc"},
			map[string]string{"shoe/a.png": "aaaa", "shoe/c.png": "cccc"}, false},
		{"a file renamed", map[string]string{"shirt/a.png": "aaaa"}, map[string]string{"shirt/b.png": "aaaa"}, false},
		{"two files swap their bytes", map[string]string{"shirt/a.png": "aaaa", "shoe/c.png": "cccc"},
			map[string]string{"shirt/a.png": "cccc", "shoe/c.png": "aaaa"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := t.TempDir(), t.TempDir()
			for rel, data := range tt.a {
				write(a, rel, data)
			}
			for rel, data := range tt.b {
				write(b, rel, data)
			}
			fa, err := describeFile(a, "images", nil)
			if err != nil {
				t.Fatal(err)
			}
			fb, err := describeFile(b, "images", nil)
			if err != nil {
				t.Fatal(err)
			}
			if fa.Hash == "" || (fa.Hash == fb.Hash) != tt.equal || sameContent(fa, fb) != tt.equal {
				t.Errorf("hashes %s and %s: equal %v, want %v", fa.Hash, fb.Hash, fa.Hash == fb.Hash, tt.equal)
			}
		})
	}
}

// TestDescribeDirectory describes a directory the way every run does: its
// files in order by path, hidden names left out, a link to a file
// described as the file it names, a link to a folder as that folder (its
// files inside it), a dangling link an error; and with an old description,
// only what changed is hashed again.
func TestDescribeDirectory(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	for rel, data := range map[string]string{
		"b/z.png": "zz", "b/a-c.png": "ac", "b/a/x.png": "x", "b/a.png": "a", "c.png": "c",
		".hidden/h.png": "h", "b/.DS_Store": "junk",
	} {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(data), 0o644)
	}
	os.WriteFile(filepath.Join(other, "t.png"), []byte("target"), 0o644)
	os.MkdirAll(filepath.Join(other, "sub"), 0o755)
	os.WriteFile(filepath.Join(other, "sub", "s.png"), []byte("s"), 0o644)
	if err := os.Symlink(filepath.Join(other, "t.png"), filepath.Join(dir, "b", "link.png")); err != nil {
		t.Fatal(err)
	}
	os.Symlink(filepath.Join(other, "sub"), filepath.Join(dir, "linked"))

	got, err := describeSource(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range got.Files {
		paths = append(paths, f.Path)
	}
	want := []string{"b/a-c.png", "b/a.png", "b/a/x.png", "b/link.png", "b/z.png", "c.png", "linked"}
	if !slices.Equal(paths, want) {
		t.Fatalf("files %v, want %v", paths, want)
	}
	target, _ := hashFile(filepath.Join(other, "t.png"))
	if l := got.Files[3]; l.Size != 6 || l.Hash != target || l.Dir {
		t.Errorf("the link to a file: %+v, want the file's size and hash %s", l, target)
	}
	if l := got.Files[6]; !l.Dir || len(l.Files) != 1 || l.Files[0].Path != "s.png" {
		t.Errorf("the link to a folder: %+v", l)
	}

	// Unchanged files keep the old hashes (a planted one shows it); a
	// changed one is hashed again.
	old := got
	old.Files = slices.Clone(got.Files)
	old.Files[0].Hash = "planted"
	old.Files[5].Hash = "planted"
	os.WriteFile(filepath.Join(dir, "c.png"), []byte("changed"), 0o644)
	again, err := describeSource(dir, &old)
	if err != nil {
		t.Fatal(err)
	}
	if again.Files[0].Hash != "planted" || again.Files[5].Hash == "planted" || again.Files[5].Size != 7 {
		t.Errorf("with an old description: %+v, %+v", again.Files[0], again.Files[5])
	}

	os.Symlink(filepath.Join(other, "missing.png"), filepath.Join(dir, "b", "dangling.png"))
	if _, err := describeSource(dir, nil); err == nil || !strings.Contains(err.Error(), "dangling.png") {
		t.Errorf("a dangling link: %v", err)
	}
}
