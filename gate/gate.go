// Package gate checks a run's metrics against the quality thresholds of
// pipeline.yaml: absolute floors, and how far a metric may fall below its
// value in the last good run.
package gate

import (
	"fmt"

	"github.com/siamese-pipeline/siamese/pipeline"
)

// Result is the verdict of one threshold.
type Result struct {
	Metric  string
	Rule    string
	Value   float64
	Pass    bool
	Message string
}

// slack absorbs float rounding in the comparisons: 0.97 - 0.96 is
// 0.010000000000000009 in float64, yet a drop from 0.97 to 0.96 is "at most
// 0.01". Metrics are reported to four decimals; 1e-9 changes no verdict a
// person would give.
const slack = 1e-9

// Check applies each threshold to metrics. last holds the metrics of the
// last good run, or is nil when there is none.
func Check(thresholds []pipeline.Threshold, metrics, last map[string]float64) []Result {
	return CheckBaseline(thresholds, metrics, Baseline{Metrics: last})
}

// Baseline is the last good run that max_drop compares with: its id (for
// the messages; may be empty) and its metrics (nil when there is none).
type Baseline struct {
	Run     string
	Metrics map[string]float64
}

// CheckBaseline is Check with a named baseline run: a failed max_drop
// says which run it fell below.
func CheckBaseline(thresholds []pipeline.Threshold, metrics map[string]float64, base Baseline) []Result {
	last, name, runNote := base.Metrics, "", ""
	if base.Run != "" {
		name, runNote = " "+base.Run, "run "+base.Run+"; "
	}
	var out []Result
	for _, t := range thresholds {
		v, ok := metrics[t.Metric]
		if t.Min != nil {
			r := Result{Metric: t.Metric, Rule: fmt.Sprintf("≥ %g", *t.Min), Value: v}
			switch {
			case !ok:
				r.Message = fmt.Sprintf("%s was not reported", t.Metric)
			case v >= *t.Min-slack:
				r.Pass, r.Message = true, fmt.Sprintf("%s = %.4f ≥ %g", t.Metric, v, *t.Min)
			default:
				r.Message = fmt.Sprintf("%s = %.4f is below the minimum %g", t.Metric, v, *t.Min)
			}
			out = append(out, r)
		}
		if t.MaxDrop != nil {
			r := Result{Metric: t.Metric, Rule: fmt.Sprintf("at most %g below the last good run", *t.MaxDrop), Value: v}
			prev, had := last[t.Metric]
			switch {
			case !ok:
				r.Message = fmt.Sprintf("%s was not reported", t.Metric)
			case !had:
				r.Pass, r.Message = true, "no earlier good run of this dataset and pipeline file to compare with"
			case prev-v <= *t.MaxDrop+slack:
				r.Pass, r.Message = true, fmt.Sprintf("%s = %.4f, last good run%s %.4f", t.Metric, v, name, prev)
			default:
				r.Message = fmt.Sprintf("%s = %.4f fell %.4f below the last good run's %.4f (%sallowed %g)",
					t.Metric, v, prev-v, prev, runNote, *t.MaxDrop)
			}
			out = append(out, r)
		}
	}
	return out
}

// Passed reports whether every result passed.
func Passed(results []Result) bool {
	for _, r := range results {
		if !r.Pass {
			return false
		}
	}
	return true
}
