package main

import (
	"errors"
	"path/filepath"

	"github.com/siamese-pipeline/siamese/history"
	"github.com/siamese-pipeline/siamese/models"
	"github.com/siamese-pipeline/siamese/monitoring"
	"github.com/siamese-pipeline/siamese/runner"
)

// afterRun follows a recorded run: it promotes the run's model when the
// run passed its gate, then reports the run where pipeline.yaml's
// monitoring block says. It returns gateErr joined with what failed.
func (a *app) afterRun(r *runner.Runner, rep *runner.Report, run *history.Run, gateErr error) error {
	before, _ := models.CurrentModel(r.Root())
	promoteErr := a.promote(r, rep, run)
	return errors.Join(gateErr, promoteErr, a.monitor(r, run, before, promoteErr))
}

// monitor writes the run's .prom file, if pipeline.yaml asks for one.
func (a *app) monitor(r *runner.Runner, run *history.Run, before *models.Model, promoteErr error) error {
	path := r.Pipeline.Monitoring.Prometheus
	if path == "" {
		return nil
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(r.Root(), path)
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
	if runs, err := history.List(r.Root()); err == nil {
		for _, h := range runs {
			if h.Outcome == history.OK {
				m.LastSuccess = h.End
			}
		}
	}
	if cur, err := models.CurrentModel(r.Root()); err == nil {
		m.CurrentModel, m.CurrentPromoted = cur.Run, cur.Promoted
		m.Promoted = cur.Run == run.ID && (before == nil || before.Run != cur.Run)
	}
	if err := monitoring.Write(path, m); err != nil {
		return err
	}
	r.Log.Debug("run reported", "prometheus", path)
	return nil
}
