// Package monitoring reports the last pipeline run in Prometheus's text
// exposition format, as a .prom file for node_exporter's textfile
// collector: when it ran, how long it took, its outcome and exit code,
// its quality gate, its metrics, and the model in use. The file is
// written under a temporary name and renamed into place, so the collector
// never reads half of it.
package monitoring

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes are the values of the outcome label, one series each.
var Outcomes = []string{"ok", "failed", "gate failed"}

// Run is what is reported of a run.
type Run struct {
	ID, Program string
	Start, End  time.Time
	Outcome     string // one of Outcomes
	ExitCode    int
	// GateChecked says whether the quality gate was checked; Gate holds
	// its thresholds' results.
	GateChecked bool
	Gate        []Check
	Metrics     map[string]float64
	Stages      map[string]float64 // stage → seconds it ran
	// LastSuccess is when the last run with outcome "ok" ended (this one
	// or an earlier one); zero if none did.
	LastSuccess time.Time
	// Promoted says whether this run promoted its model; CurrentModel is
	// the run id of the model in use ("" for none), promoted at
	// CurrentPromoted.
	Promoted        bool
	CurrentModel    string
	CurrentPromoted time.Time
}

// Check is one quality-gate threshold's result.
type Check struct {
	Metric, Rule string
	Value        float64
	Pass         bool
}

// Write writes r to path (a .prom file), creating its directory.
func Write(path string, r Run) error {
	reg := prometheus.NewPedanticRegistry()
	gauge := func(name, help string, v float64) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
		g.Set(v)
		reg.MustRegister(g)
	}
	vec := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
		reg.MustRegister(g)
		return g
	}
	flag := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	vec("siamese_last_run_info", "The last pipeline run: its id and the program's version.", "run", "program").
		WithLabelValues(r.ID, r.Program).Set(1)
	gauge("siamese_last_run_start_timestamp_seconds", "When the last run started, in seconds since the Unix epoch.", unix(r.Start))
	gauge("siamese_last_run_end_timestamp_seconds", "When the last run ended, in seconds since the Unix epoch.", unix(r.End))
	gauge("siamese_last_run_duration_seconds", "How long the last run took.", r.End.Sub(r.Start).Seconds())
	outcome := vec("siamese_last_run_outcome", "1 for the last run's outcome, 0 for the others.", "outcome")
	for _, o := range Outcomes {
		outcome.WithLabelValues(o).Set(flag(o == r.Outcome))
	}
	gauge("siamese_last_run_exit_code", "The exit code of the last run: 0 ok, 1 failed, 3 quality gate failed.", float64(r.ExitCode))
	gauge("siamese_last_run_gate_checked", "1 if the last run checked its quality gate.", flag(r.GateChecked))
	if r.GateChecked {
		passed := true
		pass := vec("siamese_last_run_gate_check_passed", "1 if the quality-gate threshold passed in the last run.", "metric", "rule")
		value := vec("siamese_last_run_gate_check_value", "The value the quality-gate threshold checked in the last run.", "metric", "rule")
		for _, c := range r.Gate {
			pass.WithLabelValues(c.Metric, c.Rule).Set(flag(c.Pass))
			value.WithLabelValues(c.Metric, c.Rule).Set(c.Value)
			passed = passed && c.Pass
		}
		gauge("siamese_last_run_gate_passed", "1 if the last run passed its quality gate.", flag(passed))
	}
	if len(r.Metrics) > 0 {
		m := vec("siamese_last_run_metric", "The evaluation metrics of the last run (evaluate/metrics.json).", "metric")
		for k, v := range r.Metrics {
			m.WithLabelValues(k).Set(v)
		}
	}
	if len(r.Stages) > 0 {
		s := vec("siamese_last_run_stage_duration_seconds", "How long each stage that ran in the last run took.", "stage")
		for k, v := range r.Stages {
			s.WithLabelValues(k).Set(v)
		}
	}
	if !r.LastSuccess.IsZero() {
		gauge("siamese_last_success_timestamp_seconds", "When the last successful run ended, in seconds since the Unix epoch.", unix(r.LastSuccess))
	}
	gauge("siamese_last_run_promoted", "1 if the last run promoted its model to current.", flag(r.Promoted))
	if r.CurrentModel != "" {
		vec("siamese_current_model_info", "The model in use (models/current): the run that promoted it.", "run").
			WithLabelValues(r.CurrentModel).Set(1)
		gauge("siamese_current_model_promoted_timestamp_seconds", "When the model in use was promoted, in seconds since the Unix epoch.",
			unix(r.CurrentPromoted))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("monitoring: %w", err)
	}
	if err := prometheus.WriteToTextfile(path, reg); err != nil {
		return fmt.Errorf("monitoring: %s: %w", path, err)
	}
	return nil
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
