package runner

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sizeOnDisk counts the bytes of a file, or of every regular file under a
// directory.
func TestSizeOnDisk(t *testing.T) {
	dir := t.TempDir()
	for name, size := range map[string]int{"a": 3, "sub/b": 5, "sub/deeper/c": 7} {
		p := filepath.Join(dir, "out", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		path string
		want int64
		ok   bool
	}{{"out", 15, true}, {"out/sub", 12, true}, {"out/a", 3, true}, {"nowhere", 0, false}} {
		if got, ok := sizeOnDisk(filepath.Join(dir, tt.path)); got != tt.want || ok != tt.ok {
			t.Errorf("%s: %d, %v; want %d, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

// A damaged stage record is warned of, and removed so the stage reruns.
func TestDamagedRecordWarned(t *testing.T) {
	f := newFixture(t)
	if got, err := f.run(Options{}); err != nil {
		t.Fatalf("first run: %s, %v", got, err)
	}
	rec := recordPath(f.root, "double")
	if err := os.WriteFile(rec, []byte(`{"stage": "double", "outs": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	r := f.runner()
	r.Log = slog.New(slog.NewTextHandler(&log, nil))
	rep, err := r.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "stage record is damaged") || !strings.Contains(log.String(), rec) {
		t.Errorf("no warning naming %s:\n%s", rec, log.String())
	}
	for _, res := range rep.Results {
		if res.Stage == "double" && res.Outcome != Ran {
			t.Errorf("double: %s, want it rerun", res.Outcome)
		}
	}
}
