package runner

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/siamese-pipeline/siamese/internal/atomicfile"
)

// TestOutputsSyncedBeforeTheirRecord watches every fsync and rename of a
// run: before a stage's record is renamed into place, each of its output
// files, each directory of a directory output and every directory its
// outputs were moved into (up to the root) has been fsynced, and so has
// the record's own bytes; its directory is fsynced after. A power loss at
// any point then leaves no record, or one whose outputs are whole.
func TestOutputsSyncedBeforeTheirRecord(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	var events []atomicfile.Event
	stop := atomicfile.Observe(func(e atomicfile.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	})
	_, err := f.runner().Run(context.Background(), Options{Jobs: 2})
	stop()
	if err != nil {
		t.Fatal(err)
	}
	tmpRoot := filepath.Join(f.root, internalDir, "tmp")
	// rel names a synced path as the final path under the root it stands
	// for: an output's temporary copy, <tmp>/<stage>-XXXX/<out>, by <out>.
	rel := func(p string) string {
		if r, err := filepath.Rel(tmpRoot, p); err == nil && !strings.HasPrefix(r, "..") {
			if _, rest, ok := strings.Cut(filepath.ToSlash(r), "/"); ok {
				return rest
			}
		}
		r, err := filepath.Rel(f.root, p)
		if err != nil {
			return p
		}
		return filepath.ToSlash(r)
	}
	want := map[string][]string{ // what must be synced before each stage's record
		"gen":    {"gen/gen.txt", "gen", "."},
		"double": {"double/double.txt", "double", "."},
		"side":   {"side/side.txt", "side", "."},
		"sum":    {"sum/sum.txt", "sum/model", "sum/model/w.txt", "sum", "."},
	}
	for stage, paths := range want {
		record := recordPath(f.root, stage)
		at := -1
		for i, e := range events {
			if e.Op == atomicfile.Rename && e.Path == record {
				at = i
			}
		}
		if at < 0 {
			t.Errorf("%s: its record was never renamed into place", stage)
			continue
		}
		synced := map[string]bool{}
		for _, e := range events[:at] {
			if e.Op == atomicfile.Synced {
				synced[rel(e.Path)] = true
			}
		}
		synced[".siamese/stages/"+stage+".json"] = false
		for _, e := range events[:at] {
			if e.Op == atomicfile.Synced && e.Path == events[at].From {
				synced[".siamese/stages/"+stage+".json"] = true
			}
		}
		for _, p := range append(paths, ".siamese/stages/"+stage+".json") {
			if !synced[p] {
				t.Errorf("%s: %s was not fsynced before the record that vouches for it", stage, p)
			}
		}
		after := false
		for _, e := range events[at:] {
			after = after || (e.Op == atomicfile.Synced && e.Path == filepath.Dir(record))
		}
		if !after {
			t.Errorf("%s: the record's directory was not fsynced after the record was renamed into it", stage)
		}
	}
}
