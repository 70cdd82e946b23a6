package models

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// List orders the promoted models by when they were promoted, not by name.
func TestListByPromotion(t *testing.T) {
	root := t.TempDir()
	t0 := time.Date(2026, 12, 1, 2, 15, 0, 0, time.UTC)
	for i, run := range []string{"run-z", "run-a", "run-m"} {
		if _, promoted, err := Promote(root, manifest(run, t0.Add(time.Duration(i)*time.Hour)), source(t, run), 5); err != nil || !promoted {
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
	}
	if got := strings.Join(runs, " "); got != "run-z run-a run-m" {
		t.Errorf("listed %s, want run-z run-a run-m (the order of promotion)", got)
	}
}

// Classes reads the model's class names, one a line.
func TestModelClasses(t *testing.T) {
	root := t.TempDir()
	m, _, err := Promote(root, manifest("run-a", time.Date(2026, 12, 1, 2, 15, 0, 0, time.UTC)), source(t, "a"), 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(m.Dir, ClassesFile), []byte("shirt\nshoe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Classes(); err != nil || strings.Join(got, ",") != "shirt,shoe" {
		t.Errorf("classes %q, %v; want shirt, shoe", got, err)
	}
	if err := os.Remove(filepath.Join(m.Dir, ClassesFile)); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Classes(); err == nil {
		t.Errorf("without %s: %q, no error", ClassesFile, got)
	}
}
