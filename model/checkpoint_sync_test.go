package model

import (
	"path/filepath"
	"testing"

	"github.com/siamese-pipeline/siamese/internal/atomicfile"
)

// A checkpoint's bytes are fsynced before it is renamed over the last
// one: a power loss leaves the old checkpoint or the whole new one.
func TestCheckpointSyncedBeforeRename(t *testing.T) {
	dir := t.TempDir()
	var events []atomicfile.Event
	stop := atomicfile.Observe(func(e atomicfile.Event) { events = append(events, e) })
	err := saveCheckpoint(dir, &checkpoint{Epoch: 3})
	stop()
	if err != nil {
		t.Fatal(err)
	}
	final := filepath.Join(dir, CheckpointFile)
	for i, e := range events {
		if e.Op != atomicfile.Rename || e.Path != final {
			continue
		}
		for _, s := range events[:i] {
			if s.Op == atomicfile.Synced && s.Path == e.From {
				return
			}
		}
		t.Fatalf("the checkpoint was renamed into place unsynced: %+v", events)
	}
	t.Fatalf("no checkpoint renamed into place: %+v", events)
}
