package sweep

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/runner"
)

func TestStoreKeepsAndChecksEntries(t *testing.T) {
	dir := t.TempDir()
	s := &Store{Dir: filepath.Join(dir, "store"), Poll: time.Millisecond}
	root := filepath.Join(dir, "a")
	if err := os.MkdirAll(filepath.Join(root, "x", "m"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "x", "f.txt"), []byte("f"), 0o644)
	os.WriteFile(filepath.Join(root, "x", "m", "w"), []byte("ww"), 0o644)
	stat := func(p string) (int64, int64) {
		info, err := os.Stat(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		return info.Size(), info.ModTime().UnixNano()
	}
	fs, fm := stat("x/f.txt")
	ws, wm := stat("x/m/w")
	rec := &runner.Record{Stage: "x", Fingerprint: "sha256:abcdef0123456789", Outs: []runner.File{
		{Path: "x/f.txt", Size: fs, MTime: fm, Hash: "h1"},
		{Path: "x/m", Dir: true, Size: ws, Hash: "h2", Files: []runner.File{{Path: "w", Size: ws, MTime: wm, Hash: "h3"}}},
	}}
	ctx := context.Background()
	sh, release, err := s.Claim(ctx, "x", rec.Fingerprint)
	if err != nil || sh != nil {
		t.Fatalf("an empty store: %v, %v", sh, err)
	}
	// A second claim of the same fingerprint waits for the first.
	waited := make(chan *runner.Shared)
	go func() {
		sh, rel, err := s.Claim(ctx, "x", rec.Fingerprint)
		if err != nil {
			t.Error(err)
		}
		rel()
		waited <- sh
	}()
	time.Sleep(20 * time.Millisecond)
	if err := s.Keep(root, rec); err != nil {
		t.Fatal(err)
	}
	release()
	got := <-waited
	if got == nil || got.From != root || got.Record.Fingerprint != rec.Fingerprint {
		t.Fatalf("the waiting claim got %+v", got)
	}
	if data, err := os.ReadFile(filepath.Join(got.Dir, "x", "m", "w")); err != nil || string(data) != "ww" {
		t.Errorf("the entry's file: %q, %v", data, err)
	}
	// A claim that is cancelled while it waits returns.
	_, hold, _ := s.Claim(ctx, "x", rec.Fingerprint)
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, _, err := s.Claim(cctx, "x", rec.Fingerprint); err == nil {
		t.Error("a cancelled claim got the lock")
	}
	hold()
	// An output changed in place (the links share it) voids the entry.
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(root, "x", "m", "w"), later, later)
	sh, release, err = s.Claim(ctx, "x", rec.Fingerprint)
	release()
	if err != nil || sh != nil {
		t.Errorf("a changed entry is claimed: %+v, %v", sh, err)
	}
	if _, _, err := s.Claim(ctx, "x", "sha256:../x"); err == nil {
		t.Error("a fingerprint that escapes the store is accepted")
	}
}
