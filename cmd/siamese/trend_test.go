package main

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/history"
	"github.com/siamese-pipeline/siamese/models"
	"github.com/siamese-pipeline/siamese/pipeline"
)

// dataYAML is gateYAML with its first stage named ingest, so that its text
// param names the dataset.
var dataYAML = strings.Replace(strings.Replace(gateYAML, "  first:\n", "  ingest:\n    uses: first\n", 1), "deps: [first]", "deps: [ingest]", 1)

// The report compares with the last run that has metrics, says what became
// of the model, and plots the gate's metrics over the runs of the same
// data only.
func TestReportTrendAndPromotion(t *testing.T) {
	dir := setup(t, dataYAML)
	root := filepath.Join(dir, "out")
	for _, args := range [][]string{
		{"run"},                               // auc 0.9
		{"run", "--set", "score.auc=0.7"},     // gate failed
		{"run", "--set", "ingest.text=other"}, // other data
		{"run", "--only", "ingest"},           // no metrics
		{"run", "--set", "score.auc=0.88"},
	} {
		if code, _, errOut := siamese(t, dir, args...); code != 0 && code != 3 {
			t.Fatalf("siamese %v: exit %d\n%s", args, code, errOut)
		}
	}
	runs, err := history.List(root)
	if err != nil || len(runs) != 5 {
		t.Fatalf("%d runs, %v", len(runs), err)
	}
	last := runs[4]
	page, err := os.ReadFile(filepath.Join(root, history.Dir, last.ID, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(page)
	text := func(id string) string {
		m := regexp.MustCompile(`id="` + id + `"[^>]*>(.*?)</dd>`).FindStringSubmatch(doc)
		if m == nil {
			return ""
		}
		return strings.Join(strings.Fields(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(m[1], " ")), " ")
	}
	// runs[3] ran only ingest: no metrics to compare with; runs[2] has.
	if got := text("previous-run"); !strings.HasPrefix(got, runs[2].ID) {
		t.Errorf("compared with %q, want %s (the last run with metrics)", got, runs[2].ID)
	}
	if got := text("model-promotion"); got != "not promoted the pipeline makes no model to serve" {
		t.Errorf("model line %q", got)
	}
	if got := text("current-model"); got != "none promoted yet" {
		t.Errorf("current model %q", got)
	}
	// The trend: runs 0, 1 and 4 read the same data and have metrics.
	if !strings.Contains(doc, `id="trend-plot"><img src="data:image/png;base64,`) ||
		!strings.Contains(doc, "over the last 3 runs of this dataset") {
		t.Errorf("the report lacks the trend of 3 runs")
	}
	if _, err := os.Stat(filepath.Join(root, history.Dir, last.ID, "trend.png")); err != nil {
		t.Error(err)
	}
	gateFailed, _ := os.ReadFile(filepath.Join(root, history.Dir, runs[1].ID, "report.html"))
	if !strings.Contains(string(gateFailed), "the quality gate failed") {
		t.Error("the gate-failed run's report does not say why its model was not promoted")
	}
}

func TestTrendLines(t *testing.T) {
	minAUC, drop, minAcc := 0.9, 0.02, 0.8
	gate := []pipeline.Threshold{{Metric: "auc", Min: &minAUC}, {Metric: "acc", Min: &minAcc}, {Metric: "auc", MaxDrop: &drop}}
	runs := []*history.Run{
		{Metrics: map[string]float64{"auc": 0.95, "acc": 0.85}},
		{Metrics: map[string]float64{"auc": 0.96}},
	}
	baseline := &history.Run{Metrics: map[string]float64{"auc": 0.95}}
	series, levels := trendLines(runs, gate, baseline)
	if len(series) != 2 || series[0].Name != "auc" || series[1].Name != "acc" ||
		series[0].Values[1] != 0.96 || !math.IsNaN(series[1].Values[1]) {
		t.Errorf("series %+v", series)
	}
	want := []struct {
		series string
		y      float64
	}{{"auc", 0.9}, {"acc", 0.8}, {"auc", 0.93}}
	if len(levels) != len(want) {
		t.Fatalf("levels %+v", levels)
	}
	for i, w := range want {
		if levels[i].Series != w.series || math.Abs(levels[i].Y-w.y) > 1e-12 {
			t.Errorf("level %d: %+v, want %s at %g", i, levels[i], w.series, w.y)
		}
	}
	if _, levels := trendLines(runs, gate, nil); len(levels) != 2 {
		t.Errorf("without a baseline: levels %+v, want only the minimums", levels)
	}
}

func TestModelState(t *testing.T) {
	root := t.TempDir()
	first, second := &history.Run{ID: "r1"}, &history.Run{ID: "r2"}
	if m := modelState(root, first, "no quality gate was checked", nil); m.Promoted || m.Current != "" || m.Why == "" {
		t.Errorf("nothing promoted: %+v", m)
	}
	file := filepath.Join(root, "w.bin")
	if err := os.WriteFile(file, []byte("weights"), 0o644); err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, _, err := models.Promote(root, models.Manifest{Run: "r1", Promoted: when}, []models.Source{{Name: "w.bin", Path: file}}, 3); err != nil {
		t.Fatal(err)
	}
	if m := modelState(root, first, "", nil); !m.Promoted || m.Current != "r1" || !m.CurrentPromoted.Equal(when) {
		t.Errorf("promoted: %+v", m)
	}
	if m := modelState(root, second, "the quality gate failed", nil); m.Promoted || m.Current != "r1" || m.Why != "the quality gate failed" {
		t.Errorf("gate failed: %+v", m)
	}
	if m := modelState(root, second, "", errors.New("disk full")); m.Promoted || m.Why != "promotion failed: disk full" {
		t.Errorf("promotion failed: %+v", m)
	}
}
