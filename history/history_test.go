package history

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/artifacts"
)

var t0 = time.Date(2026, 11, 29, 22, 15, 0, 0, time.UTC)

func params(perClass int, lr float64) map[string]map[string]any {
	return map[string]map[string]any{
		"triplets": {"per_class": perClass, "seed": 42, "rng": "numpy"},
		"train":    {"lr": lr, "hidden": []int{512, 256, 128}},
	}
}

// sampleRuns are four runs, oldest first: all stages ran; all cached but
// evaluate rerun; train failed; the gate failed.
func sampleRuns() []*Run {
	return []*Run{
		{ID: "20261129T221500Z-a3f9", Start: t0, End: t0.Add(90 * time.Second), Program: "v1.0.0", Pipeline: "p1",
			Params: params(3000, 3e-5), Outcome: OK,
			Stages: []Stage{{Name: "ingest", Outcome: "ran", Reason: "no record", Seconds: 1.5},
				{Name: "train", Outcome: "ran", Reason: "no record", Seconds: 80},
				{Name: "evaluate", Outcome: "ran", Reason: "no record", Seconds: 8}},
			Metrics: map[string]float64{"roc_auc": 0.95, "binary_accuracy": 0.9}},
		{ID: "20261129T230000Z-0b12", Start: t0.Add(45 * time.Minute), End: t0.Add(46 * time.Minute), Program: "v1.0.0", Pipeline: "p1",
			Params: params(3000, 3e-5), Outcome: OK,
			Stages: []Stage{{Name: "ingest", Outcome: "cached"}, {Name: "train", Outcome: "cached"},
				{Name: "evaluate", Outcome: "ran", Reason: "code changed", Seconds: 7.25}},
			Metrics: map[string]float64{"roc_auc": 0.95, "binary_accuracy": 0.9, "knn_accuracy_k1": 0.8}},
		{ID: "20261130T010000Z-ffff", Start: t0.Add(165 * time.Minute), End: t0.Add(166 * time.Minute), Program: "v1.1.0", Pipeline: "p2",
			Params: params(100, 1e-3), Outcome: Failed, Error: "stage train failed: loss is NaN",
			Stages: []Stage{{Name: "ingest", Outcome: "cached"},
				{Name: "train", Outcome: "failed", Reason: "params changed", Error: "loss is NaN", Seconds: 3},
				{Name: "evaluate", Outcome: "cancelled"}}},
		{ID: "20261130T020000Z-1c2d", Start: t0.Add(225 * time.Minute), End: t0.Add(230 * time.Minute), Program: "v1.1.0", Pipeline: "p2",
			Params: params(100, 3e-5), Outcome: GateFailed,
			Stages: []Stage{{Name: "ingest", Outcome: "cached"}, {Name: "train", Outcome: "ran", Seconds: 250},
				{Name: "evaluate", Outcome: "ran", Seconds: 9}},
			Metrics: map[string]float64{"roc_auc": 0.91, "binary_accuracy": math.NaN(), "seconds": 1},
			Gate: []Check{{Metric: "roc_auc", Rule: "roc_auc ≥ 0.94", Value: 0.91, Pass: false, Message: "0.91 < 0.94"},
				{Metric: "binary_accuracy", Rule: "binary_accuracy ≥ 0.8", Value: math.NaN(), Pass: false, Message: "missing"}}},
	}
}

// appendAll appends the runs in a scrambled order: List must sort them.
func appendAll(t *testing.T, root string, runs []*Run) {
	t.Helper()
	for _, i := range []int{2, 0, 3, 1} {
		if i >= len(runs) {
			continue
		}
		if err := Append(root, runs[i]); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNewID(t *testing.T) {
	id := NewID(time.Date(2026, 11, 29, 23, 15, 0, 0, time.FixedZone("CET", 3600)))
	if !regexp.MustCompile(`^20261129T221500Z-[0-9a-f]{4}$`).MatchString(id) {
		t.Errorf("NewID = %q", id)
	}
	seen := map[string]bool{}
	for range 20 {
		seen[NewID(t0)] = true
	}
	if len(seen) < 15 {
		t.Errorf("NewID repeats itself: %d distinct of 20", len(seen))
	}
	if checkID(id) != nil {
		t.Errorf("checkID rejects %q", id)
	}
}

func TestAppendList(t *testing.T) {
	root := t.TempDir()
	if runs, err := List(root); err != nil || len(runs) != 0 {
		t.Fatalf("List of empty root = %v, %v", runs, err)
	}
	want := sampleRuns()
	appendAll(t, root, sampleRuns())
	got, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d runs, want %d", len(got), len(want))
	}
	for i, g := range got {
		w := want[i]
		if g.ID != w.ID || !g.Start.Equal(w.Start) || !g.End.Equal(w.End) || g.Outcome != w.Outcome ||
			g.Error != w.Error || g.Program != w.Program || g.Pipeline != w.Pipeline {
			t.Errorf("run %d = %+v, want %+v", i, g, w)
		}
		if !reflect.DeepEqual(g.Stages, w.Stages) {
			t.Errorf("run %d stages = %+v, want %+v", i, g.Stages, w.Stages)
		}
		if len(g.Metrics) != len(w.Metrics) {
			t.Errorf("run %d metrics = %v, want %v", i, g.Metrics, w.Metrics)
		}
		for k, v := range w.Metrics {
			if !sameFloat(g.Metrics[k], v) {
				t.Errorf("run %d metric %s = %v, want %v", i, k, g.Metrics[k], v)
			}
		}
		if len(g.Gate) != len(w.Gate) {
			t.Errorf("run %d gate = %+v, want %+v", i, g.Gate, w.Gate)
		}
		for j := range w.Gate {
			gc, wc := g.Gate[j], w.Gate[j]
			if gc.Metric != wc.Metric || gc.Rule != wc.Rule || gc.Pass != wc.Pass || gc.Message != wc.Message || !sameFloat(gc.Value, wc.Value) {
				t.Errorf("run %d check %d = %+v, want %+v", i, j, gc, wc)
			}
		}
		if FormatParam(g.Params["train"]["hidden"]) != "[512,256,128]" || g.Params["triplets"]["rng"] != "numpy" ||
			FormatParam(g.Params["triplets"]["per_class"]) != FormatParam(w.Params["triplets"]["per_class"]) {
			t.Errorf("run %d params = %v", i, g.Params)
		}
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(filepath.Join(root, Dir))
	if len(entries) != len(want)+1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("runs/ holds %v", names)
	}
	// The record is plain JSON with lower-case keys and NaN as a string.
	data, err := os.ReadFile(filepath.Join(root, Dir, want[3].ID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["outcome"] != GateFailed || doc["metrics"].(map[string]any)["binary_accuracy"] != "NaN" || doc["seconds"] != 300.0 {
		t.Errorf("record: %s", data)
	}
}

func TestAppendErrors(t *testing.T) {
	root := t.TempDir()
	r := sampleRuns()[0]
	if err := Append(root, r); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		run  *Run
		want string
	}{
		{"duplicate", r, "already recorded"},
		{"nil", nil, "nil run"},
		{"slash", &Run{ID: "../evil"}, "invalid run id"},
		{"hidden", &Run{ID: ".x"}, "invalid run id"},
		{"latest", &Run{ID: "latest"}, "invalid run id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Append(root, tc.run)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Append: %v, want %q", err, tc.want)
			}
		})
	}
	// A run without an ID gets one.
	nr := &Run{Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour), Outcome: OK}
	if err := Append(root, nr); err != nil || !strings.HasPrefix(nr.ID, "20261129T231500Z-") {
		t.Errorf("Append without id: %v, id %q", err, nr.ID)
	}
	// A corrupt record is left out of the history, and Scan names the file.
	before, _ := List(root)
	os.WriteFile(filepath.Join(root, Dir, "20200101T000000Z-0000.json"), []byte("{"), 0o644)
	runs, damaged, err := Scan(root)
	if err != nil || len(runs) != len(before) || len(damaged) != 1 || !strings.Contains(damaged[0].Error(), "20200101T000000Z-0000.json") {
		t.Errorf("Scan with a corrupt record: %d runs (want %d), damaged %v, %v", len(runs), len(before), damaged, err)
	}
	// Appending rebuilds runs.arrow from the records that can be read.
	if err := Append(root, &Run{Start: t0.Add(3 * time.Hour), End: t0.Add(4 * time.Hour), Outcome: OK}); err != nil {
		t.Errorf("Append beside a corrupt record: %v", err)
	}
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	if _, err := Find(root, "latest"); err == nil || !strings.Contains(err.Error(), "no runs") {
		t.Errorf("Find in empty history: %v", err)
	}
	runs := sampleRuns()
	appendAll(t, root, runs)
	for _, tc := range []struct{ ref, want, err string }{
		{ref: "20261129T221500Z-a3f9", want: runs[0].ID},
		{ref: "20261129T23", want: runs[1].ID},
		{ref: "20261130T01", want: runs[2].ID},
		{ref: "latest", want: runs[3].ID},
		{ref: "latest~0", want: runs[3].ID},
		{ref: "latest~1", want: runs[2].ID},
		{ref: "latest~3", want: runs[0].ID},
		{ref: "latest~4", err: "only 4 runs"},
		{ref: "latest~x", err: "bad run reference"},
		{ref: "latest~-1", err: "bad run reference"},
		{ref: "2026", err: "ambiguous"},
		{ref: "20261130", err: "ambiguous: 20261130T010000Z-ffff, 20261130T020000Z-1c2d"},
		{ref: "1999", err: `no run "1999"`},
		{ref: "", err: "empty"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			r, err := Find(root, tc.ref)
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("Find(%q) = %v, %v; want error %q", tc.ref, r, err, tc.err)
				}
			case err != nil:
				t.Errorf("Find(%q): %v", tc.ref, err)
			case r.ID != tc.want:
				t.Errorf("Find(%q) = %s, want %s", tc.ref, r.ID, tc.want)
			}
		})
	}
}

func TestLastPassed(t *testing.T) {
	if r := LastPassed(nil); r != nil {
		t.Errorf("LastPassed of no runs = %v", r)
	}
	runs := sampleRuns()
	passed := []Check{{Metric: "roc_auc", Rule: "≥ 0.9", Value: 0.97, Pass: true}}
	runs[0].Gate = passed // runs[1] is OK but ungated; runs[2] and later are not OK
	if r := LastPassed(runs); r == nil || r.ID != runs[0].ID {
		t.Fatalf("LastPassed = %v; want %s", r, runs[0].ID)
	}
	runs[1].Gate = passed
	if r := LastPassed(runs); r == nil || r.ID != runs[1].ID {
		t.Errorf("LastPassed = %v, want %s", r, runs[1].ID)
	}
}

func TestDiff(t *testing.T) {
	runs := sampleRuns()
	a, b := runs[1], runs[3]
	a.Params["train"]["epochs"] = 10
	b.Params["split"] = map[string]any{"test_size": 0.05}
	want := []Change{
		{Kind: "param", Key: "split.test_size", New: "0.05"},
		{Kind: "param", Key: "train.epochs", Old: "10"},
		{Kind: "param", Key: "triplets.per_class", Old: "3000", New: "100"},
		{Kind: "metric", Key: "binary_accuracy", Old: "0.9000", New: "NaN"},
		{Kind: "metric", Key: "knn_accuracy_k1", Old: "0.8000"},
		{Kind: "metric", Key: "roc_auc", Old: "0.9500", New: "0.9100 (-0.0400)"},
		{Kind: "metric", Key: "seconds", New: "1"},
	}
	if got := Diff(a, b); !reflect.DeepEqual(got, want) {
		t.Errorf("Diff =\n%+v\nwant\n%+v", got, want)
	}
	if got := Diff(runs[0], runs[0]); len(got) != 0 {
		t.Errorf("Diff of a run with itself = %+v", got)
	}
	// 3 and 3.0 are the same param; records read back hold float64.
	x := &Run{Params: map[string]map[string]any{"s": {"n": 3}}}
	y := &Run{Params: map[string]map[string]any{"s": {"n": 3.0}}}
	if got := Diff(x, y); len(got) != 0 {
		t.Errorf("Diff of 3 and 3.0 = %+v", got)
	}
	if got := Diff(nil, x); len(got) != 1 || got[0].New != "3" {
		t.Errorf("Diff(nil, x) = %+v", got)
	}
	// Metrics and their changes to 4 decimals.
	m := Diff(&Run{Metrics: map[string]float64{"auc": 0.912345}}, &Run{Metrics: map[string]float64{"auc": 0.923456}})
	if len(m) != 1 || m[0].Old != "0.9123" || m[0].New != "0.9235 (+0.0111)" {
		t.Errorf("metric diff = %+v", m)
	}
}

func TestRunsArrow(t *testing.T) {
	root := t.TempDir()
	runs := sampleRuns()
	appendAll(t, root, runs)
	tb, err := artifacts.ReadArrow(filepath.Join(root, Dir, TableFile))
	if err != nil {
		t.Fatal(err)
	}
	if tb.NumRows() != len(runs) {
		t.Fatalf("%d rows, want %d", tb.NumRows(), len(runs))
	}
	wantNames := append(append([]string{}, fixedColumns...), "binary_accuracy", "knn_accuracy_k1", "roc_auc", "metric_seconds")
	if got := tb.Names(); !reflect.DeepEqual(got, wantNames) {
		t.Errorf("columns %v, want %v", got, wantNames)
	}
	col := func(get func(string) ([]string, error), name string) []string {
		v, err := get(name)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ids := col(tb.String, "id")
	for i, r := range runs {
		if ids[i] != r.ID {
			t.Errorf("id[%d] = %s, want %s", i, ids[i], r.ID)
		}
	}
	if s := col(tb.String, "start"); s[0] != "2026-11-29T22:15:00.000Z" {
		t.Errorf("start = %v", s)
	}
	if o := col(tb.String, "outcome"); !reflect.DeepEqual(o, []string{OK, OK, Failed, GateFailed}) {
		t.Errorf("outcome = %v", o)
	}
	if e := col(tb.String, "error"); e[2] != runs[2].Error {
		t.Errorf("error = %v", e)
	}
	ms, _ := tb.Int64("start_ms")
	if ms[0] != t0.UnixMilli() {
		t.Errorf("start_ms = %v", ms)
	}
	secs, _ := tb.Float64("seconds")
	if !reflect.DeepEqual(secs, []float64{90, 60, 60, 300}) {
		t.Errorf("seconds = %v", secs)
	}
	ran, _ := tb.Int64("stages_ran")
	cached, _ := tb.Int64("stages_cached")
	failed, _ := tb.Int64("stages_failed")
	gate, _ := tb.Int64("gate_passed")
	if !reflect.DeepEqual(ran, []int64{3, 1, 0, 2}) || !reflect.DeepEqual(cached, []int64{0, 2, 1, 1}) ||
		!reflect.DeepEqual(failed, []int64{0, 0, 1, 0}) || !reflect.DeepEqual(gate, []int64{-1, -1, -1, 0}) {
		t.Errorf("ran %v cached %v failed %v gate %v", ran, cached, failed, gate)
	}
	auc, err := tb.Float64("roc_auc")
	if err != nil {
		t.Fatal(err)
	}
	if auc[0] != 0.95 || auc[1] != 0.95 || !math.IsNaN(auc[2]) || auc[3] != 0.91 {
		t.Errorf("roc_auc = %v", auc)
	}
	knn, _ := tb.Float64("knn_accuracy_k1")
	if !math.IsNaN(knn[0]) || knn[1] != 0.8 {
		t.Errorf("knn_accuracy_k1 = %v", knn)
	}
	ps := col(tb.String, "params")
	var p map[string]map[string]any
	if err := json.Unmarshal([]byte(ps[2]), &p); err != nil || p["triplets"]["per_class"] != 100.0 || p["train"]["lr"] != 1e-3 {
		t.Errorf("params[2] = %s (%v)", ps[2], err)
	}
}

func TestMetricsFromJSON(t *testing.T) {
	m, err := MetricsFromJSON([]byte(`{"roc_auc": 0.97, "n": 3, "name": "x", "bad": "NaN",
		"per_class": [{"class": 0, "auroc": 0.9}], "nested": {"a": 1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 3 || m["roc_auc"] != 0.97 || m["n"] != 3 || !math.IsNaN(m["bad"]) {
		t.Errorf("MetricsFromJSON = %v", m)
	}
	if _, err := MetricsFromJSON([]byte(`[1]`)); err == nil {
		t.Error("MetricsFromJSON of a list: no error")
	}
}
