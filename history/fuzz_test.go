package history

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzRunRecord reads arbitrary bytes as a run record in runs/: it is
// listed or left out as damaged, never a panic, and appending a run
// beside it still works.
func FuzzRunRecord(f *testing.F) {
	for _, r := range sampleRuns() {
		b, err := r.MarshalJSON()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"id":"x","metrics":{"a":"NaN","b":"nope"}}`))
	f.Add([]byte(`{"id":`))
	f.Fuzz(func(t *testing.T, b []byte) {
		root := t.TempDir()
		dir := filepath.Join(root, Dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "20200101T000000Z-0000.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		runs, damaged, err := Scan(root)
		if err != nil || len(runs)+len(damaged) != 1 {
			t.Fatalf("%d runs, %d damaged, %v", len(runs), len(damaged), err)
		}
		if err := Append(root, &Run{ID: "20300101T000000Z-0000", Outcome: OK}); err != nil {
			t.Fatalf("Append beside the record: %v", err)
		}
	})
}
