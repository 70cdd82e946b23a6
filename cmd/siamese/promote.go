package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/siamese-pipeline/siamese/history"
	"github.com/siamese-pipeline/siamese/models"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/scoring"
)

// The outs, by name, that make a model to score with.
const (
	modelOut      = "model/"
	anchorsOut    = "anchors.npy"
	thresholdsOut = "thresholds.json"
	classesOut    = "classes.txt"
)

// errNoServing says that no stage of the pipeline makes a model to score with.
var errNoServing = errors.New("no stage writes a model to score with (model/, anchors.npy, thresholds.json, classes.txt)")

// servingParts are where the pipeline's outs put the parts of a model
// to score with, and the stages that write them.
type servingParts struct {
	files  scoring.Files
	pre    scoring.Preprocess
	stages []*pipeline.Stage
	ingest string // the stage that writes classes.txt, whose params say how images are prepared
}

// serving finds the parts of a model in the pipeline's outs, and the
// preprocessing the ingest stage's params give images: image_size and
// filter, or 28 and bilinear where it has no such params.
func serving(p *pipeline.Pipeline) (*servingParts, error) {
	sp := &servingParts{pre: scoring.Preprocess{ImageSize: scoring.DefaultImageSize, Filter: scoring.DefaultFilter}}
	f := &sp.files
	dst := map[string]*string{modelOut: &f.Model, anchorsOut: &f.Anchors, thresholdsOut: &f.Thresholds, classesOut: &f.Classes}
	for _, s := range p.Stages {
		for _, o := range s.Outs {
			ptr, ok := dst[o.Name()]
			if !ok || *ptr != "" {
				continue
			}
			*ptr = filepath.Join(p.Root, filepath.FromSlash(o.Path))
			sp.stages = append(sp.stages, s)
			if o.Name() == classesOut {
				sp.ingest = s.Name
				sp.pre = preprocess(s.Params, sp.pre)
			}
		}
	}
	if len(sp.stages) == 0 {
		return nil, errNoServing
	}
	for _, name := range []string{modelOut, anchorsOut, thresholdsOut, classesOut} {
		if *dst[name] == "" {
			return nil, fmt.Errorf("%s: no stage writes %s, which scoring needs", p.File, name)
		}
	}
	return sp, nil
}

// preprocess takes image_size and filter from params where they are set
// (as ints, or as the float64 numbers of a decoded run record).
func preprocess(params map[string]any, pre scoring.Preprocess) scoring.Preprocess {
	switch v := params["image_size"].(type) {
	case int:
		pre.ImageSize = v
	case float64:
		pre.ImageSize = int(v)
	}
	if v, ok := params["filter"].(string); ok {
		pre.Filter = v
	}
	return pre
}

// promote makes the run's model the current one when the run passed a
// quality gate that was checked: it copies the network, anchors,
// thresholds and class names to models/<run id>/ and moves
// models/current. A failed run, a failed gate or a run without a gate
// (--no-gate, or nothing evaluated) promotes nothing. It returns why it
// promoted nothing, "" when it promoted the model.
func (a *app) promote(home string, r *runner.Runner, rep *runner.Report, run *history.Run) (string, error) {
	switch {
	case run.Outcome == history.GateFailed:
		return "the quality gate failed", nil
	case run.Outcome != history.OK:
		return "the run " + run.Outcome, nil
	case len(run.Gate) == 0:
		return "no quality gate was checked", nil
	}
	sp, err := serving(r.Pipeline)
	if errors.Is(err, errNoServing) {
		return "the pipeline makes no model to serve", nil
	}
	if err != nil {
		return "", fmt.Errorf("promote: %w", err)
	}
	f, pre := sp.files, sp.pre
	current := currentStages(rep)
	for _, s := range sp.stages {
		if !current[s.Name] {
			r.Log.Warn("model not promoted: a stage that makes it was not part of this run", "stage", s.Name)
			return fmt.Sprintf("stage %s, which makes it, was not part of this run", s.Name), nil
		}
	}
	if _, err := scoring.Open(f, pre); err != nil { // refuse what score could not use
		return "", fmt.Errorf("promote: %w", err)
	}
	entries, err := os.ReadDir(f.Model)
	if err != nil {
		return "", fmt.Errorf("promote: %w", err)
	}
	var files []models.Source
	for _, e := range entries {
		if e.Type().IsRegular() {
			files = append(files, models.Source{Name: e.Name(), Path: filepath.Join(f.Model, e.Name())})
		}
	}
	files = append(files, models.Source{Name: models.AnchorsFile, Path: f.Anchors},
		models.Source{Name: models.ThresholdsFile, Path: f.Thresholds}, models.Source{Name: models.ClassesFile, Path: f.Classes})
	m := models.Manifest{Run: run.ID, RunStart: run.Start, Promoted: time.Now().UTC(), Preprocess: pre, Metrics: run.Metrics}
	if run.Dataset != nil {
		m.Dataset = run.Dataset.Source
	}
	keep := r.Pipeline.Models.Keep
	if keep < 1 { // a Pipeline not parsed from a file
		keep = pipeline.DefaultKeep
	}
	got, promoted, err := models.Promote(home, m, files, keep)
	if err != nil {
		return "", err
	}
	if !promoted {
		r.Log.Info("model unchanged: current stays", "run", got.Run)
		return "its files are the current model's", nil
	}
	r.Log.Info("model promoted", "run", run.ID, "dir", got.Dir)
	return "", nil
}
