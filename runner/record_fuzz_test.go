package runner

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadRecord reads arbitrary bytes as a stage record, and plans a run
// with it: the record counts, or counts as absent (the stage reruns);
// never a panic, never an error.
func FuzzReadRecord(f *testing.F) {
	f.Add([]byte(`{"stage":"gen","uses":"gen","version":"1","fingerprint":"sha256:00","params":{"n":3},` +
		`"deps":[],"outs":[{"path":"gen/gen.txt","size":6,"mtime_ns":1,"hash":"xxh3-128:00"}],` +
		`"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:01Z","duration_s":1}`))
	f.Add([]byte(`{"stage":"gen","outs":[{"path":"d","dir":true,"files":[{"path":"x","size":-1}]}]}`))
	f.Add([]byte(`{"stage":`))
	f.Add([]byte("\x00\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fx := newFixture(t)
		root := fx.root
		name := recordPath(root, "gen")
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := readRecord(root, "gen"); err != nil {
			t.Fatalf("a record's content made an error, not an absent record: %v", err)
		}
		if _, err := fx.runner().Run(context.Background(), Options{DryRun: true}); err != nil {
			t.Fatalf("planning with the record: %v", err)
		}
	})
}
