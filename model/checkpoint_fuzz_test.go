package model

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadCheckpoint reads arbitrary bytes as a checkpoint: an error (the
// training starts afresh), or a checkpoint that matches only the config
// and data it was made with; never a panic.
func FuzzLoadCheckpoint(f *testing.F) {
	cfg := smallConfig(4, 6, 3)
	cfg.Epochs = 1
	tr := randTriplets(1, 5, 4)
	dir := f.TempDir()
	if _, err := Train(context.Background(), cfg, tr, Triplets{}, TrainOptions{CheckpointDir: dir}); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, CheckpointFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, CheckpointFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := loadCheckpoint(dir)
		if err != nil || c == nil {
			return
		}
		if c.matches(cfg, keyOf(tr, Triplets{})) {
			// Resuming from it must not panic either.
			_, _ = Train(context.Background(), cfg, tr, Triplets{}, TrainOptions{CheckpointDir: dir})
		}
	})
}
