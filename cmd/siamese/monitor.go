package main

import (
	"path/filepath"

	"github.com/siamese-pipeline/siamese/history"
	"github.com/siamese-pipeline/siamese/models"
	"github.com/siamese-pipeline/siamese/monitoring"
	"github.com/siamese-pipeline/siamese/runner"
)

// monitor writes the run's .prom file, if pipeline.yaml asks for one.
// home is the root the run is recorded in.
func (a *app) monitor(home string, r *runner.Runner, run *history.Run, before *models.Model, promoteErr error) error {
	path := r.Pipeline.Monitoring.Prometheus
	if path == "" {
		return nil
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(home, path)
	}
	m := monitoring.Run{ID: run.ID, Program: run.Program, Start: run.Start, End: run.End, Outcome: run.Outcome,
		GateChecked: len(run.Gate) > 0, Metrics: run.Metrics, Stages: map[string]float64{}}
	switch {
	case run.Outcome == history.GateFailed:
		m.ExitCode = exitGate
	case run.Outcome != history.OK || promoteErr != nil:
		m.ExitCode = exitFailed
	}
	for _, g := range run.Gate {
		m.Gate = append(m.Gate, monitoring.Check{Metric: g.Metric, Rule: g.Rule, Value: g.Value, Pass: g.Pass})
	}
	for _, s := range run.Stages {
		if s.Outcome == string(runner.Ran) {
			m.Stages[s.Name] = s.Seconds
		}
	}
	if runs, err := history.List(home); err == nil {
		for _, h := range runs {
			if h.Outcome == history.OK {
				m.LastSuccess = h.End
			}
		}
	}
	if cur, err := models.CurrentModel(home); err == nil {
		m.CurrentModel, m.CurrentPromoted = cur.Run, cur.Promoted
		m.Promoted = cur.Run == run.ID && (before == nil || before.Run != cur.Run)
	}
	if err := monitoring.Write(path, m); err != nil {
		return err
	}
	r.Log.Debug("run reported", "prometheus", path)
	return nil
}
