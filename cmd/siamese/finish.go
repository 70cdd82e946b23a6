package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/siamese-pipeline/siamese/gate"
	"github.com/siamese-pipeline/siamese/history"
	"github.com/siamese-pipeline/siamese/models"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/report"
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/sweep"
)

const exitGate = 3 // the quality gate failed

// gateError says which quality thresholds a run failed.
type gateError struct{ results []gate.Result }

func (e *gateError) Error() string {
	var msgs []string
	for _, r := range e.results {
		if !r.Pass {
			msgs = append(msgs, r.Message)
		}
	}
	return "quality gate failed: " + strings.Join(msgs, "; ")
}

// finish records a run in the history, checks the quality gate and
// writes the run's report. The runner calls it while holding the lock.
func (a *app) finish(r *runner.Runner, rep *runner.Report, runErr error) error {
	_, err := a.finishAt(recordAt{home: r.Root()}, r, rep, runErr)
	return err
}

// recordAt says where a run is recorded: in the history, models and
// report of home, which is the run's own root except for a sweep's
// variants. A variant's run (variant set and not promote) is recorded
// with its report page alone: no gate, no promotion, no monitoring.
type recordAt struct {
	home           string
	sweep, variant string
	promote        bool // a variant's run that sweep promote makes
}

// finishAt is finish, recorded at rec; it returns the run it recorded.
// A sweep's runs are recorded one at a time (its variants run at once).
func (a *app) finishAt(at recordAt, r *runner.Runner, rep *runner.Report, runErr error) (*history.Run, error) {
	if at.sweep != "" {
		release, err := sweep.LockWait(context.Background(), filepath.Join(sweep.Path(at.home, at.sweep), "record.lock"), 0)
		if err != nil {
			return nil, fmt.Errorf("run history: %w", err)
		}
		defer release()
	}
	p, root := r.Pipeline, at.home
	run := &history.Run{
		ID: history.NewID(rep.Start), Start: rep.Start, End: rep.End, Program: r.Program,
		Pipeline: fingerprint(p), Params: history.StageParams(p), Outcome: history.OK,
		Sweep: at.sweep, Variant: at.variant,
	}
	variant := at.variant != "" && !at.promote
	for _, res := range rep.Results {
		st := history.Stage{Name: res.Stage, Outcome: string(res.Outcome), Reason: res.Reason}
		if res.Err != nil {
			st.Error = res.Err.Error()
		}
		if !res.Start.IsZero() && !res.End.IsZero() {
			st.Seconds = res.End.Sub(res.Start).Seconds()
		}
		run.Stages = append(run.Stages, st)
	}
	if runErr != nil {
		run.Outcome, run.Error = history.Failed, runErr.Error()
		if errors.As(runErr, new(*runner.InterruptedError)) {
			run.Outcome = history.Interrupted
		}
	}
	metrics, full, current, err := readMetrics(r, rep)
	if err != nil {
		return nil, err
	}
	runs, damaged, err := history.Scan(root)
	if err != nil {
		return nil, fmt.Errorf("run history: %w", err)
	}
	for _, d := range damaged {
		r.Log.Warn("run record is damaged; left out of the history", "err", d)
	}
	run.Metrics = metrics
	if run.File, err = filepath.Abs(p.File); err != nil {
		return nil, err
	}
	if run.Dataset, err = datasetOf(r); err != nil {
		return nil, err
	}

	var gateErr error
	thresholds := p.Gate
	if variant {
		thresholds = nil // a sweep promotes nothing by itself: no gate
	}
	if runErr == nil && len(thresholds) > 0 && !current {
		r.Log.Warn("quality gate not checked: the stages that report metrics were not part of this run")
	}
	var baseline *history.Run // the gate's last good run
	if runErr == nil && len(thresholds) > 0 && current {
		var base gate.Baseline
		if prev := history.Baseline(runs, run.File, run.Dataset); prev != nil && hasMaxDrop(thresholds) {
			base = gate.Baseline{Run: prev.ID, Metrics: prev.Metrics}
			run.Baseline, baseline = prev.ID, prev
		}
		results := gate.CheckBaseline(thresholds, metrics, base)
		for _, g := range results {
			run.Gate = append(run.Gate, history.Check{Metric: g.Metric, Rule: g.Rule, Value: g.Value, Pass: g.Pass, Message: g.Message})
		}
		if !gate.Passed(results) {
			run.Outcome = history.GateFailed
			gateErr = &gateError{results: results}
		}
	}
	if err := history.Append(root, run); err != nil {
		return nil, fmt.Errorf("run history: %w", err)
	}
	// Promote the run's model when it passed its gate, then write the
	// report, which says whether it did, and report the run where
	// pipeline.yaml's monitoring block says.
	before, _ := models.CurrentModel(root)
	why, promoteErr := "a sweep's variant is promoted by sweep promote", error(nil)
	if !variant {
		why, promoteErr = a.promote(root, r, rep, run)
	}
	in := report.Input{Run: run, Previous: history.LastWithMetrics(runs), Images: images(r, rep), Metrics: full,
		Model: modelState(root, run, why, promoteErr)}
	page := filepath.Join(root, history.Dir, run.ID, "report.html")
	if len(thresholds) > 0 {
		trend := filepath.Join(root, history.Dir, run.ID, "trend.png")
		if in.Trend, err = drawTrend(trend, append(runs, run), run, thresholds, baseline); err != nil {
			r.Log.Warn("trend plot not drawn", "err", err)
		}
	}
	if err := report.Write(page, in); err != nil {
		return nil, errors.Join(promoteErr, fmt.Errorf("report: %w", err))
	}
	r.Log.Info("run recorded", "run", run.ID, "outcome", run.Outcome, "report", page)
	if variant {
		return run, nil
	}
	if err := report.Write(filepath.Join(root, "report.html"), in); err != nil {
		return nil, errors.Join(promoteErr, fmt.Errorf("report: %w", err))
	}
	return run, errors.Join(gateErr, promoteErr, a.monitor(root, r, run, before, promoteErr))
}

// hasMaxDrop reports whether a threshold compares with the last good run.
func hasMaxDrop(ts []pipeline.Threshold) bool {
	for _, t := range ts {
		if t.MaxDrop != nil {
			return true
		}
	}
	return false
}

// readMetrics reads the metrics files of the stages that declare one and
// that ran or were found up to date in this run: the numeric fields for
// the history and the gate, and everything for the report. current says
// whether every such stage did.
func readMetrics(r *runner.Runner, rep *runner.Report) (nums map[string]float64, full map[string]any, current bool, err error) {
	nums, full, current = map[string]float64{}, map[string]any{}, true
	made := currentStages(rep)
	for _, s := range r.Pipeline.Stages {
		if s.Spec.Metrics == "" {
			continue
		}
		if !made[s.Name] {
			current = false
			continue
		}
		for _, o := range s.Outs {
			if o.Name() != s.Spec.Metrics {
				continue
			}
			data, err := os.ReadFile(filepath.Join(r.Root(), filepath.FromSlash(o.Path)))
			if err != nil {
				return nil, nil, false, err
			}
			m, err := history.MetricsFromJSON(data)
			if err != nil {
				return nil, nil, false, fmt.Errorf("%s: %w", o.Path, err)
			}
			maps.Copy(nums, m)
			var all map[string]any
			if json.Unmarshal(data, &all) == nil {
				maps.Copy(full, all)
			}
		}
	}
	return nums, full, current, nil
}

// images lists the PNG outputs of the stages that ran or were found up
// to date in this run, for the report; other stages' pictures may be stale.
func images(r *runner.Runner, rep *runner.Report) []report.Image {
	current := currentStages(rep)
	var out []report.Image
	for _, s := range r.Pipeline.Stages {
		for _, o := range s.Outs {
			if current[s.Name] && strings.HasSuffix(o.Path, ".png") {
				out = append(out, report.Image{Title: s.Name + ": " + o.Name(),
					Path: filepath.Join(r.Root(), filepath.FromSlash(o.Path))})
			}
		}
	}
	return out
}

// currentStages are the stages whose outputs this run made or found up
// to date.
func currentStages(rep *runner.Report) map[string]bool {
	current := map[string]bool{}
	for _, res := range rep.Results {
		current[res.Stage] = res.Outcome == runner.Ran || res.Outcome == runner.Cached || res.Outcome == runner.Reused
	}
	return current
}

// fingerprint hashes the pipeline's shape and settings: its stages, their
// implementations and code versions, params, deps and outs.
func fingerprint(p *pipeline.Pipeline) string {
	type stage struct {
		Name, Uses, Version string
		Params              pipeline.Params
		Deps                []string
		Outs                []string
	}
	var v []stage
	for _, s := range p.Stages {
		v = append(v, stage{s.Name, s.Uses, s.Spec.Version, s.Params, s.Deps, outs(s)})
	}
	data, _ := json.Marshal(v)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}
