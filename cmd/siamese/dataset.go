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

// datasetOf says what the pipeline's outputs hold now learned from: the
// tracked sources of the stage that wrote classes.txt (its record) and
// the classes it lists. It returns nil when no stage writes classes.txt
// or that stage has not run. (A pipeline of data stages alone has a
// dataset too, and no model.)
func datasetOf(r *runner.Runner) (*history.Dataset, error) {
	var ingest, classes string
	for _, s := range r.Pipeline.Stages {
		for _, o := range s.Outs {
			if o.Name() == classesOut && ingest == "" {
				ingest, classes = s.Name, filepath.Join(r.Pipeline.Root, filepath.FromSlash(o.Path))
			}
		}
	}
	if ingest == "" {
		return nil, nil
	}
	rec, err := r.Recorded(ingest)
	if err != nil || rec == nil {
		return nil, err
	}
	data, err := os.ReadFile(classes)
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
		source = fmt.Sprintf("%s %v", ingest, rec.Params)
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
