package atomicfile

import (
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
