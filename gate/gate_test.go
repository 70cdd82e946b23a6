package gate

import (
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/pipeline"
)

func f(v float64) *float64 { return &v }

func TestCheck(t *testing.T) {
	tests := []struct {
		name      string
		threshold pipeline.Threshold
		metrics   map[string]float64
		last      map[string]float64
		pass      bool
		message   string
	}{
		{"above min", pipeline.Threshold{Metric: "auc", Min: f(0.9)}, map[string]float64{"auc": 0.95}, nil, true, "auc = 0.9500 ≥ 0.9"},
		{"at min", pipeline.Threshold{Metric: "auc", Min: f(0.9)}, map[string]float64{"auc": 0.9}, nil, true, ""},
		{"below min", pipeline.Threshold{Metric: "auc", Min: f(0.9)}, map[string]float64{"auc": 0.85}, nil, false, "below the minimum 0.9"},
		{"missing", pipeline.Threshold{Metric: "auc", Min: f(0.9)}, map[string]float64{}, nil, false, "auc was not reported"},
		{"no last run", pipeline.Threshold{Metric: "auc", MaxDrop: f(0.01)}, map[string]float64{"auc": 0.5}, nil, true, "no earlier good run"},
		{"small drop", pipeline.Threshold{Metric: "auc", MaxDrop: f(0.01)}, map[string]float64{"auc": 0.955}, map[string]float64{"auc": 0.96}, true, ""},
		{"big drop", pipeline.Threshold{Metric: "auc", MaxDrop: f(0.01)}, map[string]float64{"auc": 0.9}, map[string]float64{"auc": 0.96}, false, "fell 0.0600 below the last good run's 0.9600"},
		{"drop of exactly max_drop", pipeline.Threshold{Metric: "auc", MaxDrop: f(0.01)}, map[string]float64{"auc": 0.96}, map[string]float64{"auc": 0.97}, true, "auc = 0.9600, last good run 0.9700"},
		{"just over max_drop", pipeline.Threshold{Metric: "auc", MaxDrop: f(0.01)}, map[string]float64{"auc": 0.9599}, map[string]float64{"auc": 0.97}, false, "fell 0.0101 below"},
		{"exactly at min after arithmetic", pipeline.Threshold{Metric: "auc", Min: f(0.3)}, map[string]float64{"auc": 0.7 - 0.4}, nil, true, ""},
		{"improved", pipeline.Threshold{Metric: "auc", MaxDrop: f(0)}, map[string]float64{"auc": 0.97}, map[string]float64{"auc": 0.96}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Check([]pipeline.Threshold{tt.threshold}, tt.metrics, tt.last)
			if len(res) != 1 || res[0].Pass != tt.pass || !strings.Contains(res[0].Message, tt.message) {
				t.Fatalf("got %+v", res)
			}
			if Passed(res) != tt.pass {
				t.Errorf("Passed = %v", !tt.pass)
			}
		})
	}
	both := pipeline.Threshold{Metric: "auc", Min: f(0.9), MaxDrop: f(0.01)}
	if res := Check([]pipeline.Threshold{both}, map[string]float64{"auc": 0.95}, map[string]float64{"auc": 0.99}); len(res) != 2 || Passed(res) {
		t.Errorf("min and max_drop together: %+v", res)
	}
}
