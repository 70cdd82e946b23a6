package runner

import (
	"os"
	"path/filepath"
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
