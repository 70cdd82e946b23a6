package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/siamese-pipeline/siamese/history"
	"github.com/siamese-pipeline/siamese/models"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/plots"
	"github.com/siamese-pipeline/siamese/report"
)

// trendRuns is how many runs the report's trend plot shows at most.
const trendRuns = 30

// modelState is what became of run's model, for its report: promoted or
// why not (why, as promote says, or its error), and the current model.
func modelState(root string, run *history.Run, why string, promoteErr error) *report.Model {
	m := &report.Model{Why: why}
	if promoteErr != nil {
		m.Why = "promotion failed: " + promoteErr.Error()
	}
	if cur, err := models.CurrentModel(root); err == nil {
		m.Current, m.CurrentPromoted = cur.Run, cur.Promoted
		m.Promoted = cur.Run == run.ID
	}
	return m
}

// drawTrend plots the gate's metrics over the last runs (of runs, oldest
// first, run among them) that read run's dataset, with a line at each
// minimum and, where baseline (the gate's last good run) has the metric,
// at the lowest value max_drop allows. It returns nil when no such run
// recorded metrics.
func drawTrend(path string, runs []*history.Run, run *history.Run, gate []pipeline.Threshold, baseline *history.Run) (*report.Image, error) {
	recent := history.Recent(runs, run, trendRuns)
	if len(recent) == 0 {
		return nil, nil
	}
	series, levels := trendLines(recent, gate, baseline)
	labels := make([]string, len(recent))
	for i, r := range recent {
		labels[i] = r.Start.UTC().Format("01-02 15:04")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if err := plots.Trend(path, "Quality gate metrics", labels, series, levels); err != nil {
		return nil, err
	}
	title := fmt.Sprintf("The gate's metrics over the last %d runs of this dataset", len(recent))
	if len(recent) == 1 {
		title = "The gate's metrics: this is the first run of this dataset with metrics"
	}
	return &report.Image{Title: title, Path: path}, nil
}

// trendLines are the series of the gate's metrics (each once, in the
// gate's order) over runs, and the gate's levels.
func trendLines(runs []*history.Run, gate []pipeline.Threshold, baseline *history.Run) ([]plots.Series, []plots.Level) {
	var series []plots.Series
	var levels []plots.Level
	var names []string
	for _, t := range gate {
		if !slices.Contains(names, t.Metric) {
			names = append(names, t.Metric)
			s := plots.Series{Name: t.Metric, Values: make([]float64, len(runs))}
			for i, r := range runs {
				s.Values[i] = math.NaN() // not reported by that run
				if v, ok := r.Metrics[t.Metric]; ok {
					s.Values[i] = v
				}
			}
			series = append(series, s)
		}
		if t.Min != nil {
			levels = append(levels, plots.Level{Series: t.Metric, Y: *t.Min, Label: fmt.Sprintf("%s ≥ %g", t.Metric, *t.Min)})
		}
		if last, ok := baselineValue(baseline, t.Metric); ok && t.MaxDrop != nil {
			levels = append(levels, plots.Level{Series: t.Metric, Y: last - *t.MaxDrop,
				Label: fmt.Sprintf("%s ≥ %.4f (last good − %g)", t.Metric, last-*t.MaxDrop, *t.MaxDrop)})
		}
	}
	return series, levels
}

func baselineValue(baseline *history.Run, metric string) (float64, bool) {
	if baseline == nil {
		return 0, false
	}
	v, ok := baseline.Metrics[metric]
	return v, ok && !math.IsNaN(v) && !math.IsInf(v, 0)
}
