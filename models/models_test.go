package models

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/scoring"
)

// source writes a model's files with content v and returns them.
func source(t *testing.T, v string) []Source {
	t.Helper()
	dir := t.TempDir()
	var files []Source
	for _, name := range []string{"model.json", "W0.npy", AnchorsFile, ThresholdsFile, ClassesFile} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(name+" "+v), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, Source{Name: name, Path: p})
	}
	return files
}

func manifest(run string, at time.Time) Manifest {
	return Manifest{Run: run, RunStart: at, Promoted: at, Preprocess: scoring.Preprocess{ImageSize: 28, Filter: "bilinear"},
		Metrics: map[string]float64{"roc_auc": 0.97}}
}

func TestPromote(t *testing.T) {
	root := t.TempDir()
	if _, err := CurrentModel(root); !errors.Is(err, ErrNoCurrent) {
		t.Fatalf("before any promotion: %v", err)
	}
	t0 := time.Date(2026, 12, 1, 2, 15, 0, 0, time.UTC)
	m, promoted, err := Promote(root, manifest("run-a", t0), source(t, "a"), 2)
	if err != nil || !promoted || !m.Current || m.Dir != filepath.Join(root, Dir, "run-a") {
		t.Fatalf("first promotion: %+v %v %v", m, promoted, err)
	}
	got, err := os.ReadFile(filepath.Join(m.Dir, AnchorsFile))
	if err != nil || string(got) != AnchorsFile+" a" {
		t.Errorf("copied anchors: %q %v", got, err)
	}
	if link, _ := os.Readlink(filepath.Join(root, Dir, Current)); link != "run-a" {
		t.Errorf("current → %q", link)
	}

	// The same files again: nothing changes.
	m, promoted, err = Promote(root, manifest("run-b", t0.Add(time.Hour)), source(t, "a"), 2)
	if err != nil || promoted || m.Run != "run-a" {
		t.Fatalf("unchanged model: %+v %v %v", m, promoted, err)
	}
	if _, err := os.Stat(filepath.Join(root, Dir, "run-b")); !os.IsNotExist(err) {
		t.Errorf("an unchanged model was copied: %v", err)
	}

	for i, run := range []string{"run-c", "run-d", "run-e"} {
		if _, promoted, err := Promote(root, manifest(run, t0.Add(time.Duration(i+2)*time.Hour)), source(t, run), 2); err != nil || !promoted {
			t.Fatalf("%s: %v %v", run, promoted, err)
		}
	}
	all, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	var runs []string
	for _, m := range all {
		runs = append(runs, m.Run)
		if m.Current != (m.Run == "run-e") {
			t.Errorf("%s: current %v", m.Run, m.Current)
		}
	}
	if strings.Join(runs, " ") != "run-d run-e" {
		t.Errorf("kept %v, want the last 2", runs)
	}
	cur, err := CurrentModel(root)
	if err != nil || cur.Run != "run-e" || cur.Metrics["roc_auc"] != 0.97 || cur.Preprocess.ImageSize != 28 ||
		strings.Join(cur.Files, " ") != "W0.npy anchors.npy classes.txt model.json thresholds.json" || !strings.HasPrefix(cur.Digest, "sha256:") {
		t.Errorf("current: %+v %v", cur, err)
	}
	if f := cur.Paths(); f.Model != cur.Dir || f.Anchors != filepath.Join(cur.Dir, AnchorsFile) {
		t.Errorf("files %+v", f)
	}
	for ref, want := range map[string]string{"current": "run-e", "run-d": "run-d", "run-e": "run-e"} {
		if m, err := Find(root, ref); err != nil || m.Run != want {
			t.Errorf("Find(%q) = %v, %v; want %s", ref, m, err, want)
		}
	}
	for ref, want := range map[string]string{"run-": "ambiguous", "run-a": "no promoted model", "x": "no promoted model"} {
		if _, err := Find(root, ref); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Find(%q): %v, want %q", ref, err, want)
		}
	}
	// A directory that is not a model is left out, and left alone.
	if err := os.MkdirAll(filepath.Join(root, Dir, "notes"), 0o755); err != nil {
		t.Fatal(err)
	}
	if all, err := List(root); err != nil || len(all) != 2 {
		t.Errorf("with a stray directory: %d models, %v", len(all), err)
	}
	if err := os.WriteFile(filepath.Join(root, Dir, "run-d", ManifestFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := List(root); err == nil || !strings.Contains(err.Error(), "run-d") {
		t.Errorf("a broken manifest: %v", err)
	}
	os.RemoveAll(filepath.Join(root, Dir, "notes"))
	entries, _ := os.ReadDir(filepath.Join(root, Dir))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestPromoteErrors(t *testing.T) {
	root := t.TempDir()
	files := source(t, "x")
	t0 := time.Now()
	for _, tc := range []struct {
		name  string
		m     Manifest
		files []Source
		want  string
	}{
		{"bad run id", manifest("../up", t0), files, "invalid run id"},
		{"current as run id", manifest("current", t0), files, "invalid run id"},
		{"file name with a slash", manifest("r", t0), append(files[:1:1], Source{Name: "a/b", Path: files[0].Path}), "invalid file name"},
		{"manifest as a file", manifest("r", t0), []Source{{Name: ManifestFile, Path: files[0].Path}}, "invalid file name"},
		{"twice", manifest("r", t0), []Source{files[0], files[0]}, "named twice"},
		{"missing file", manifest("r", t0), []Source{{Name: "W0.npy", Path: filepath.Join(root, "nope")}}, "no such file"},
		{"a directory", manifest("r", t0), []Source{{Name: "W0.npy", Path: root}}, "is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := Promote(root, tc.m, tc.files, 10); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want %q", err, tc.want)
			}
		})
	}
	if _, err := CurrentModel(root); !errors.Is(err, ErrNoCurrent) {
		t.Errorf("a failed promotion moved current: %v", err)
	}
	// A promotion killed half-way leaves a hidden directory, which the
	// next one removes.
	left := filepath.Join(root, Dir, ".promote-123")
	if err := os.MkdirAll(left, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Promote(root, manifest("r", t0), files, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("%s: %v", left, err)
	}
	if _, _, err := Promote(root, manifest("r", t0), source(t, "y"), 10); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("promoting a run twice: %v", err)
	}
}
