package main

import (
	"encoding/csv"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// snapshot lists the files under dir with their sizes and mtimes ("" when
// dir does not exist).
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %s %d\n", p, info.ModTime().Format(time.RFC3339Nano), info.Size())
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return b.String()
}

// TestInitFolderEndToEnd is a newcomer's first hour with a folder of
// images: siamese init --folder DIR NAME, the command it prints, then
// siamese score on new images, all without touching out/: neither the
// working directory's nor the repository's.
func TestInitFolderEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the network")
	}
	work := t.TempDir()
	writeFolder(t, filepath.Join(work, "photos"), map[string]int{"bolt": 40, "gear": 50, "nut": 60}, 7)
	rng := rand.New(rand.NewPCG(99, 1))
	for _, c := range []string{"bolt", "gear", "nut"} {
		writeImage(t, filepath.Join(work, "new", c+".png"), c, rng)
	}
	repoOut := repoFile("out")
	before := snapshot(t, repoOut)

	code, out, errOut := runProgram(t, work, "init", "--folder", "photos", "lineup")
	if code != 0 {
		t.Fatalf("init: exit %d\n%s%s", code, out, errOut)
	}
	_, next, ok := strings.Cut(out, "next: siamese ")
	if !ok {
		t.Fatalf("init printed no next command:\n%s", out)
	}
	args := strings.Fields(strings.TrimSpace(next))
	if strings.Join(args, " ") != "-f lineup/pipeline.yaml run" {
		t.Errorf("next command %q", args)
	}
	if code, out, errOut := runProgram(t, work, args...); code != 0 {
		t.Fatalf("siamese %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	code, out, errOut = runProgram(t, work, "-f", "lineup/pipeline.yaml", "score", "--format", "csv", "new")
	if code != 0 {
		t.Fatalf("score: exit %d\n%s%s", code, out, errOut)
	}
	if want := "scoring with model "; !strings.Contains(errOut, want) || !strings.Contains(errOut, "dataset "+filepath.Join(work, "photos")+", classes 3 (bolt, gear, nut)") {
		t.Errorf("score did not say which model it used:\n%s", errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("score printed %d rows (%v):\n%s", len(rows), err, out)
	}
	for _, r := range rows[1:] {
		if want := strings.TrimSuffix(filepath.Base(r[0]), ".png"); r[1] != want {
			t.Errorf("%s scored as %s, want %s", r[0], r[1], want)
		}
	}
	for _, p := range []string{"lineup/out/models/current", "lineup/out/ingest/images.npy", "lineup/out/runs/runs.arrow"} {
		if _, err := os.Stat(filepath.Join(work, p)); err != nil {
			t.Errorf("the pipeline's own root lacks %s: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "out")); !os.IsNotExist(err) {
		t.Errorf("out/ in the working directory: %v", err)
	}
	if after := snapshot(t, repoOut); after != before {
		t.Errorf("the repository's out/ changed")
	}
}
