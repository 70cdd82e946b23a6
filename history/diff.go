package history

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Change is one difference between two runs.
type Change struct {
	Kind string // "data", "param" or "metric"
	Key  string // the stage for data, "stage.param" for a param, the metric's name for a metric
	Old  string // the value in the older run; "" if it has none
	New  string // the value in the newer run; "" if it has none
}

// Diff lists the params and metrics that differ between run a (the older)
// and run b, params first, each sorted by key, after the stages of b that
// new data made run (sourceChanges). Param values are written as
// JSON ("numpy" with its quotes, 3000, [512,256,128]) and compared as
// written, so 3 and 3.0 are the same. Metric values are written as
// FormatNumber writes them, whole numbers as integers and others to 4
// decimals, and a metric whose two values agree to 4 decimals is no
// change; where both runs have a finite value, New also carries the
// change, as in "0.9712 (+0.0031)".
func Diff(a, b *Run) []Change {
	var params, metrics []Change
	if a == nil {
		a = &Run{}
	}
	if b == nil {
		b = &Run{}
	}
	pa, pb := flatParams(a.Params), flatParams(b.Params)
	for k, old := range pa {
		if nw, ok := pb[k]; !ok || nw != old {
			params = append(params, Change{Kind: "param", Key: k, Old: old, New: nw})
		}
	}
	for k, nw := range pb {
		if _, ok := pa[k]; !ok {
			params = append(params, Change{Kind: "param", Key: k, New: nw})
		}
	}
	for k, old := range a.Metrics {
		nw, ok := b.Metrics[k]
		switch {
		case !ok:
			metrics = append(metrics, Change{Kind: "metric", Key: k, Old: FormatNumber(old)})
		case !sameFloat(old, nw) && !sameTo4(old, nw):
			c := Change{Kind: "metric", Key: k, Old: FormatNumber(old), New: FormatNumber(nw)}
			if d := nw - old; !math.IsNaN(d) && !math.IsInf(d, 0) {
				c.New += " (" + formatChange(d) + ")"
			}
			metrics = append(metrics, c)
		}
	}
	for k, nw := range b.Metrics {
		if _, ok := a.Metrics[k]; !ok {
			metrics = append(metrics, Change{Kind: "metric", Key: k, New: FormatNumber(nw)})
		}
	}
	byKey := func(x, y Change) int { return cmp.Compare(x.Key, y.Key) }
	slices.SortFunc(params, byKey)
	slices.SortFunc(metrics, byKey)
	return append(append(sourceChanges(a, b), params...), metrics...)
}

// FormatMetric writes a metric value with %.4g.
func FormatMetric(v float64) string { return fmt.Sprintf("%.4g", v) }

// FormatDelta writes a change of a metric with its sign: %+.4g.
func FormatDelta(d float64) string { return fmt.Sprintf("%+.4g", d) }

// FormatNumber writes a metric for a person: a whole number as an
// integer (a count: 10000, not 1e+04), any other to 4 decimals.
func FormatNumber(v float64) string {
	if isWhole(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

// formatChange writes a change of a metric with its sign, as FormatNumber.
func formatChange(d float64) string {
	s := FormatNumber(d)
	if d > 0 {
		s = "+" + s
	}
	return s
}

func isWhole(v float64) bool { return v == math.Trunc(v) && math.Abs(v) < 1e15 }

// sameTo4 reports whether two finite values agree to 4 decimals.
func sameTo4(x, y float64) bool {
	return !math.IsNaN(x-y) && !math.IsInf(x-y, 0) && math.Abs(x-y) < 0.5e-4
}

func sameFloat(x, y float64) bool {
	return x == y || (math.IsNaN(x) && math.IsNaN(y))
}

// flatParams maps "stage.param" to the value as JSON.
func flatParams(p map[string]map[string]any) map[string]string {
	out := map[string]string{}
	for st, ps := range p {
		for k, v := range ps {
			out[st+"."+k] = FormatParam(v)
		}
	}
	return out
}

// FormatParam writes a param value as JSON, as Diff does.
func FormatParam(v any) string {
	if f, ok := v.(float64); ok {
		v = jsonFloat(f)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
