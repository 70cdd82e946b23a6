package metrics

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// ErrOneClass is returned (wrapped) when a metric needs both positive and
// negative labels but one class is absent.
var ErrOneClass = errors.New("only one class present in labels")

// curve holds the cumulative counts at each distinct score, scanning scores
// from highest to lowest (items with tied scores are grouped).
type curve struct {
	thr      []float64 // distinct scores, descending
	tps, fps []float64 // positives / negatives with score >= thr[i]
	pos, neg float64   // totals
}

func buildCurve(scores []float64, labels []bool, fn string) (*curve, error) {
	if len(scores) != len(labels) {
		return nil, fmt.Errorf("metrics: %s: len(scores)=%d != len(labels)=%d", fn, len(scores), len(labels))
	}
	if len(scores) == 0 {
		return nil, fmt.Errorf("metrics: %s: empty input", fn)
	}
	idx := make([]int, len(scores))
	for i, s := range scores {
		if math.IsNaN(s) {
			return nil, fmt.Errorf("metrics: %s: NaN score at index %d", fn, i)
		}
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	c := &curve{}
	var tp, fp float64
	for k, i := range idx {
		if labels[i] {
			tp++
		} else {
			fp++
		}
		if k == len(idx)-1 || scores[idx[k+1]] != scores[i] {
			c.thr = append(c.thr, scores[i])
			c.tps = append(c.tps, tp)
			c.fps = append(c.fps, fp)
		}
	}
	c.pos, c.neg = tp, fp
	return c, nil
}

// ROCCurve returns the ROC curve like sklearn.metrics.roc_curve with
// drop_intermediate=False: one point per distinct score (descending), where
// an item is predicted positive iff score >= thresholds[i], preceded by the
// (0, 0) point whose threshold is +Inf (as in sklearn >= 1.3; note that
// encoding/json cannot encode +Inf). It errors on mismatched lengths, empty
// input, NaN scores or when one class is absent.
func ROCCurve(scores []float64, labels []bool) (fpr, tpr, thresholds []float64, err error) {
	c, err := buildCurve(scores, labels, "ROCCurve")
	if err != nil {
		return nil, nil, nil, err
	}
	if c.pos == 0 || c.neg == 0 {
		return nil, nil, nil, fmt.Errorf("metrics: ROCCurve: %w", ErrOneClass)
	}
	m := len(c.thr) + 1
	fpr, tpr, thresholds = make([]float64, m), make([]float64, m), make([]float64, m)
	thresholds[0] = math.Inf(1)
	for i := range c.thr {
		fpr[i+1] = c.fps[i] / c.neg
		tpr[i+1] = c.tps[i] / c.pos
		thresholds[i+1] = c.thr[i]
	}
	return fpr, tpr, thresholds, nil
}

// ROCAUC returns the area under the ROC curve, computed with the trapezoid
// rule on the curve with tied scores grouped, which equals
// sklearn.metrics.roc_auc_score (ties count one half). Higher scores mean
// "more positive". It errors like ROCCurve.
func ROCAUC(scores []float64, labels []bool) (float64, error) {
	c, err := buildCurve(scores, labels, "ROCAUC")
	if err != nil {
		return 0, err
	}
	if c.pos == 0 || c.neg == 0 {
		return 0, fmt.Errorf("metrics: ROCAUC: %w", ErrOneClass)
	}
	// Sum in counts, normalise once: area = Σ Δfp·(tp_prev+tp)/2 / (P·N).
	var area, ptp, pfp float64
	for i := range c.thr {
		area += (c.fps[i] - pfp) * (c.tps[i] + ptp) / 2
		ptp, pfp = c.tps[i], c.fps[i]
	}
	return area / (c.pos * c.neg), nil
}

// AveragePrecision returns sklearn.metrics.average_precision_score:
// Σ_n (R_n − R_{n−1}) P_n over the distinct score thresholds in descending
// order (no interpolation), i.e. the area under the step precision-recall
// curve ("PR AUC"). It errors on mismatched lengths, empty input, NaN scores
// or when there are no positive labels (all-positive input gives 1).
func AveragePrecision(scores []float64, labels []bool) (float64, error) {
	c, err := buildCurve(scores, labels, "AveragePrecision")
	if err != nil {
		return 0, err
	}
	if c.pos == 0 {
		return 0, fmt.Errorf("metrics: AveragePrecision: no positive labels: %w", ErrOneClass)
	}
	var ap, prevTP float64
	for i := range c.thr {
		if d := c.tps[i] - prevTP; d > 0 {
			ap += d / c.pos * c.tps[i] / (c.tps[i] + c.fps[i])
		}
		prevTP = c.tps[i]
	}
	return ap, nil
}

// BestThresholdAccuracy returns the highest accuracy of the rule
// "positive iff score > t" over every cut point, and the threshold achieving
// it. Candidate thresholds are the midpoints between consecutive distinct
// scores, plus −Inf (everything positive) and the maximum score (everything
// negative). Ties in accuracy go to the smallest threshold. Scores must not
// be NaN. It returns (0, 0) for empty input and panics if the lengths differ.
func BestThresholdAccuracy(scores []float64, labels []bool) (acc, threshold float64) {
	mustSameLen(len(scores), len(labels), "BestThresholdAccuracy")
	n := len(scores)
	if n == 0 {
		return 0, 0
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	// Threshold −Inf: all predicted positive; correct = number of positives.
	correct := 0
	for _, l := range labels {
		if l {
			correct++
		}
	}
	best, bestT := correct, math.Inf(-1)
	for k := 0; k < n; {
		s := scores[idx[k]]
		// Move the whole group of items scored s to the negative side.
		for ; k < n && scores[idx[k]] == s; k++ {
			if labels[idx[k]] {
				correct--
			} else {
				correct++
			}
		}
		t := s
		if k < n {
			// Midpoint, unless rounding pushes it onto the next score.
			if mid := s + (scores[idx[k]]-s)/2; mid < scores[idx[k]] {
				t = mid
			}
		}
		if correct > best {
			best, bestT = correct, t
		}
	}
	return float64(best) / float64(n), bestT
}
