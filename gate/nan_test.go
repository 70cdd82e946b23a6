package gate

import (
	"math"
	"testing"

	"github.com/siamese-pipeline/siamese/pipeline"
)

// A metric that came out NaN (a diverged training, an empty class) passes
// no threshold: every comparison with NaN is false, so each rule must be
// written as the comparison that passes.
func TestNaNMetricFails(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name      string
		threshold pipeline.Threshold
		last      map[string]float64
	}{
		{"min", pipeline.Threshold{Metric: "auc", Min: f(0.9)}, nil},
		{"min of zero", pipeline.Threshold{Metric: "auc", Min: f(0)}, nil},
		{"max_drop", pipeline.Threshold{Metric: "auc", MaxDrop: f(0.01)}, map[string]float64{"auc": 0.96}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Check([]pipeline.Threshold{tt.threshold}, map[string]float64{"auc": nan}, tt.last)
			if len(res) != 1 || res[0].Pass || Passed(res) {
				t.Fatalf("a NaN metric passed: %+v", res)
			}
		})
	}
}
