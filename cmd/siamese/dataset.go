package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/siamese-pipeline/siamese/history"
	"github.com/siamese-pipeline/siamese/runner"
)

// datasetOf says what the model the pipeline's outputs hold now learned
// from: the tracked sources of the stage that wrote classes.txt (its
// record) and the classes it lists. It returns nil when the pipeline
// makes no model to score with or that stage has not run.
func datasetOf(r *runner.Runner) (*history.Dataset, error) {
	sp, err := serving(r.Pipeline)
	if errors.Is(err, errNoServing) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rec, err := r.Recorded(sp.ingest)
	if err != nil || rec == nil {
		return nil, err
	}
	data, err := os.ReadFile(sp.files.Classes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	var paths []string
	for _, s := range rec.Sources {
		paths = append(paths, s.Path)
	}
	source := sourceOf(paths)
	if source == "" { // a stage that tracks nothing: its params name the data
		source = fmt.Sprintf("%s %v", sp.ingest, rec.Params)
	}
	return &history.Dataset{Source: source, Classes: strings.Split(strings.TrimRight(string(data), "\n"), "\n")}, nil
}

// sourceOf names tracked paths by one path: the only one, or the
// directory that holds them all.
func sourceOf(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	if len(paths) == 1 {
		return paths[0]
	}
	dir := filepath.Dir(paths[0])
	for _, p := range paths[1:] {
		for dir != filepath.Dir(dir) && !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			dir = filepath.Dir(dir)
		}
	}
	return dir
}
