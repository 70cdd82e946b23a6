package history

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/siamese-pipeline/siamese/artifacts"
)

// TimeLayout is how runs.arrow writes start and end: RFC 3339 in UTC with
// milliseconds (pandas.to_datetime and datetime.fromisoformat read it).
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// fixedColumns are the columns of runs.arrow before the metric columns.
var fixedColumns = []string{"id", "start", "end", "start_ms", "end_ms", "seconds",
	"program", "pipeline", "outcome", "error", "stages_ran", "stages_cached", "stages_failed",
	"gate_passed", "params", "sweep"}

// MetricColumn is the runs.arrow column of a metric: the metric's name, or
// "metric_" and the name where the name is one of the fixed columns.
func MetricColumn(metric string) string {
	if slices.Contains(fixedColumns, metric) {
		return "metric_" + metric
	}
	return metric
}

// writeTable writes runs.arrow: one row per run with the fixed columns, then
// one float64 column per metric seen in any run, sorted by name, NaN where a
// run lacks the metric. params is the run's params as a JSON string.
func writeTable(path string, runs []*Run) error {
	n := len(runs)
	var (
		id, start, end, program, pipe = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		outcome, errs, params, sweep  = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		startMS, endMS                = make([]int64, n), make([]int64, n)
		ran, cached, failed, gateOK   = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		seconds                       = make([]float64, n)
	)
	names := map[string]bool{}
	for _, r := range runs {
		for k := range r.Metrics {
			names[k] = true
		}
	}
	metricNames := slices.Sorted(maps.Keys(names))
	metrics := make(map[string][]float64, len(metricNames))
	for _, k := range metricNames {
		metrics[k] = make([]float64, n)
	}
	for i, r := range runs {
		id[i], program[i], pipe[i], outcome[i], errs[i] = r.ID, r.Program, r.Pipeline, r.Outcome, r.Error
		sweep[i] = r.Sweep
		start[i], end[i] = fmtTime(r.Start), fmtTime(r.End)
		startMS[i], endMS[i] = r.Start.UnixMilli(), r.End.UnixMilli()
		seconds[i] = r.Seconds()
		for _, s := range r.Stages {
			switch s.Outcome {
			case "ran":
				ran[i]++
			case "cached":
				cached[i]++
			case "failed":
				failed[i]++
			}
		}
		gateOK[i] = -1 // no gate
		if len(r.Gate) > 0 {
			gateOK[i] = 1
			for _, c := range r.Gate {
				if !c.Pass {
					gateOK[i] = 0
				}
			}
		}
		p, err := json.Marshal(r.paramsJSON())
		if err != nil {
			return fmt.Errorf("%s: run %s: params: %w", TableFile, r.ID, err)
		}
		params[i] = string(p)
		for _, k := range metricNames {
			v, ok := r.Metrics[k]
			if !ok {
				v = math.NaN()
			}
			metrics[k][i] = v
		}
	}
	c := artifacts.NewColumns().
		String("id", id).String("start", start).String("end", end).
		Int64("start_ms", startMS).Int64("end_ms", endMS).Float64("seconds", seconds).
		String("program", program).String("pipeline", pipe).String("outcome", outcome).String("error", errs).
		Int64("stages_ran", ran).Int64("stages_cached", cached).Int64("stages_failed", failed).
		Int64("gate_passed", gateOK).String("params", params).String("sweep", sweep)
	for _, k := range metricNames {
		c.Float64(MetricColumn(k), metrics[k])
	}
	c.Metadata("format", "siamese run history v1").
		Metadata("gate_passed", "1 all thresholds passed, 0 some failed, -1 no gate")
	return artifacts.WriteArrow(path, c)
}

// paramsJSON is r.Params with non-finite floats as strings, for encoding.
func (r Run) paramsJSON() map[string]map[string]any {
	out := make(map[string]map[string]any, len(r.Params))
	for st, ps := range r.Params {
		m := make(map[string]any, len(ps))
		for k, v := range ps {
			if f, ok := v.(float64); ok {
				v = jsonFloat(f)
			}
			m[k] = v
		}
		out[st] = m
	}
	return out
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeLayout)
}
