package atomicfile

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// WriteFile syncs the file's bytes before it renames the file into place,
// and the directory after, so that a power loss leaves the old file or
// the whole new one; Observe sees each step, in that order.
func TestWriteFileOrder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "a.json")
	var events []Event
	stop := Observe(func(e Event) { events = append(events, e) })
	err := WriteFile(path, []byte("{}\n"))
	stop()
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 {
		t.Fatalf("events %+v, want sync, rename, sync", events)
	}
	tmp := events[0].Path
	want := []Event{{Synced, tmp, ""}, {Rename, path, tmp}, {Synced, filepath.Dir(path), ""}}
	if !slices.Equal(events, want) || filepath.Dir(tmp) != filepath.Dir(path) || tmp == path {
		t.Errorf("events %+v, want %+v (the first a temporary file beside %s)", events, want, path)
	}
	// After stop, nothing is told.
	if err := WriteFile(path, []byte("[]\n")); err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 {
		t.Errorf("events after stop: %+v", events[3:])
	}
}

// Replace renames the whole file into place and syncs nothing: what it
// writes can be checked and redone, and a sync would cost more than it.
func TestReplaceSyncsNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "a.files")
	for _, content := range []string{"one", "two"} {
		var events []Event
		stop := Observe(func(e Event) { events = append(events, e) })
		err := Replace(path, []byte(content))
		stop()
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].Op != Rename || events[0].Path != path {
			t.Errorf("events %+v, want one rename into %s", events, path)
		}
		if data, _ := os.ReadFile(path); string(data) != content {
			t.Errorf("got %q, want %q", data, content)
		}
	}
}
