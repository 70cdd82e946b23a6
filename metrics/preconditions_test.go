package metrics

import (
	"fmt"
	"strings"
	"testing"
)

// BestThresholdAccuracy panics, as it says, on scores and labels of
// different lengths, saying so, rather than scoring a prefix or failing
// on an index.
func TestBestThresholdAccuracyLengths(t *testing.T) {
	for _, tt := range []struct {
		scores []float64
		labels []bool
	}{{[]float64{0.1, 0.2, 0.3}, []bool{true, false}}, {[]float64{0.1, 0.2}, []bool{true, false, true}}} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "BestThresholdAccuracy") {
					t.Errorf("%d scores, %d labels: recovered %v, want BestThresholdAccuracy's own panic", len(tt.scores), len(tt.labels), r)
				}
			}()
			BestThresholdAccuracy(tt.scores, tt.labels)
		}()
	}
}
