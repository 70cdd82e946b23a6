package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCommitAndAbort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.txt")
	tests := []struct {
		name   string
		commit bool
		want   string // content at path afterwards; "" means absent
	}{
		{"abort leaves nothing", false, ""},
		{"commit puts the file in place", true, "new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Create(path)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("new")
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatal("the file is visible before Commit")
			}
			if tt.commit {
				if err := f.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			f.Abort() // a no-op after Commit
			data, err := os.ReadFile(path)
			if got := string(data); (err == nil) != (tt.want != "") || got != tt.want {
				t.Errorf("content %q, %v", got, err)
			}
			if st, err := os.Stat(path); err == nil && st.Mode().Perm() != 0o644 {
				t.Errorf("mode %v", st.Mode())
			}
			if f.Commit() == nil {
				t.Error("a second Commit succeeded")
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() != "a.txt" {
					t.Errorf("left behind: %s", e.Name())
				}
			}
			os.Remove(path)
		})
	}
}

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "b.json")
	for _, content := range []string{"one", "two"} {
		if err := WriteFile(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(path); string(data) != content {
			t.Errorf("got %q, want %q", data, content)
		}
	}
}

func TestFailedCommitLeavesTheOldFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "out")
	// A non-empty directory cannot be renamed over: Commit fails.
	if err := os.MkdirAll(filepath.Join(target, "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(target, []byte("new")); err == nil {
		t.Fatal("replaced a non-empty directory")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "out" {
		t.Errorf("left behind: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(target, "keep")); err != nil {
		t.Errorf("the old content is gone: %v", err)
	}
}

// A device, a pipe or a directory at the path is never replaced.
func TestCreateRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := Create(os.DevNull); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Create(%s): %v, want ErrNotRegular", os.DevNull, err)
	}
	if info, err := os.Stat(os.DevNull); err != nil || info.Mode()&os.ModeDevice == 0 {
		t.Fatalf("%s is no longer a device: %v %v", os.DevNull, info, err)
	}
	if _, err := Create(dir); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Create(a directory): %v, want ErrNotRegular", err)
	}
}
