package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/history"
)

// The gate's section names the run max_drop compared with, and only when
// there was one.
func TestGateBaselineLine(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	gate := []history.Check{{Metric: "roc_auc", Rule: "at most 0.01 below the last good run", Value: 0.97, Pass: true}}
	for _, tt := range []struct {
		baseline string
		want     bool
	}{{"20260101T000000Z-ab12", true}, {"", false}} {
		run := &history.Run{ID: "20260102T030405Z-cd34", Start: start, End: start.Add(time.Second), Outcome: history.OK,
			Gate: gate, Baseline: tt.baseline}
		page := filepath.Join(t.TempDir(), "report.html")
		if err := Write(page, Input{Run: run}); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Contains(string(data), "gate baseline: <code>"+tt.baseline+"</code>")
		if got != tt.want || strings.Contains(string(data), "gate baseline") != tt.want {
			t.Errorf("baseline %q: line shown %v, want %v", tt.baseline, got, tt.want)
		}
	}
}
