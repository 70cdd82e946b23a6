package monitoring

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// parse reads a .prom file with Prometheus's own text parser.
func parse(t *testing.T, path string) map[string]*dto.MetricFamily {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("Prometheus cannot parse %s: %v", path, err)
	}
	return fams
}

// value returns the value of the series of name whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && labels[k] == v
		}
		if match {
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no series %s%v", name, want)
	return 0
}

func TestWrite(t *testing.T) {
	start := time.Date(2026, 12, 1, 2, 15, 0, 0, time.UTC)
	odd := "weird \"metric\" \\ with\nnewline"
	r := Run{ID: "20261201T021500Z-ab12", Program: "v1.2 abc", Start: start, End: start.Add(90 * time.Second),
		Outcome: "gate failed", ExitCode: 3, GateChecked: true,
		Gate: []Check{{Metric: "roc_auc", Rule: "min 0.96", Value: 0.95, Pass: false},
			{Metric: "binary_accuracy", Rule: "min 0.83", Value: 0.85, Pass: true}},
		Metrics:     map[string]float64{"roc_auc": 0.95, "binary_accuracy": 0.85, odd: math.NaN()},
		Stages:      map[string]float64{"train": 60.5, "evaluate": 12},
		LastSuccess: start.Add(-24 * time.Hour), CurrentModel: "20261130T021500Z-cd34", CurrentPromoted: start.Add(-24 * time.Hour)}
	path := filepath.Join(t.TempDir(), "textfile", "siamese.prom")
	if err := Write(path, r); err != nil {
		t.Fatal(err)
	}
	fams := parse(t, path)

	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"siamese_last_run_info", map[string]string{"run": r.ID, "program": "v1.2 abc"}, 1},
		{"siamese_last_run_start_timestamp_seconds", nil, float64(start.Unix())},
		{"siamese_last_run_duration_seconds", nil, 90},
		{"siamese_last_run_outcome", map[string]string{"outcome": "gate failed"}, 1},
		{"siamese_last_run_outcome", map[string]string{"outcome": "ok"}, 0},
		{"siamese_last_run_outcome", map[string]string{"outcome": "failed"}, 0},
		{"siamese_last_run_exit_code", nil, 3},
		{"siamese_last_run_gate_checked", nil, 1},
		{"siamese_last_run_gate_passed", nil, 0},
		{"siamese_last_run_gate_check_passed", map[string]string{"metric": "roc_auc", "rule": "min 0.96"}, 0},
		{"siamese_last_run_gate_check_passed", map[string]string{"metric": "binary_accuracy"}, 1},
		{"siamese_last_run_gate_check_value", map[string]string{"metric": "roc_auc"}, 0.95},
		{"siamese_last_run_metric", map[string]string{"metric": "binary_accuracy"}, 0.85},
		{"siamese_last_run_stage_duration_seconds", map[string]string{"stage": "train"}, 60.5},
		{"siamese_last_success_timestamp_seconds", nil, float64(start.Add(-24 * time.Hour).Unix())},
		{"siamese_last_run_promoted", nil, 0},
		{"siamese_current_model_info", map[string]string{"run": "20261130T021500Z-cd34"}, 1},
	} {
		if got := value(t, fams, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	// A label value with quotes, a backslash and a newline comes back whole.
	if v := value(t, fams, "siamese_last_run_metric", map[string]string{"metric": odd}); !math.IsNaN(v) {
		t.Errorf("NaN metric read back as %v", v)
	}

	// The format's rules, line by line: every family has HELP and TYPE
	// before its samples, and every name is a legal metric name.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	seen := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			n, _, _ := strings.Cut(rest, " ")
			seen[n] = "help"
			continue
		}
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			n, typ, _ := strings.Cut(rest, " ")
			if seen[n] != "help" || typ != "gauge" {
				t.Errorf("TYPE line %q: after %q", line, seen[n])
			}
			seen[n] = "type"
			continue
		}
		n := line[:strings.IndexAny(line, "{ ")]
		if !name.MatchString(n) || seen[n] != "type" {
			t.Errorf("sample %q: bad name or no HELP and TYPE before it", line)
		}
	}
	if !strings.Contains(string(data), `metric="weird \"metric\" \\ with\nnewline"`) {
		t.Errorf("label not escaped as the format says:\n%s", data)
	}

	// A second write replaces the file whole and leaves nothing beside it.
	r.Outcome, r.ExitCode, r.GateChecked, r.Gate, r.Metrics, r.Promoted, r.CurrentModel = "ok", 0, false, nil, nil, true, ""
	if err := Write(path, r); err != nil {
		t.Fatal(err)
	}
	fams = parse(t, path)
	if value(t, fams, "siamese_last_run_outcome", map[string]string{"outcome": "ok"}) != 1 ||
		value(t, fams, "siamese_last_run_promoted", nil) != 1 {
		t.Error("the second write did not replace the first")
	}
	for _, gone := range []string{"siamese_last_run_gate_passed", "siamese_last_run_metric", "siamese_current_model_info"} {
		if _, ok := fams[gone]; ok {
			t.Errorf("%s is still there", gone)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("files beside the .prom file: %v", entries)
	}
}

func TestWriteError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(filepath.Join(file, "siamese.prom"), Run{Outcome: "ok"}); err == nil || !strings.Contains(err.Error(), "monitoring") {
		t.Errorf("writing under a file: %v", err)
	}
}
