package history

import (
	"slices"
	"testing"
	"time"
)

func TestRecentAndLastWithMetrics(t *testing.T) {
	fashion := map[string]map[string]any{"ingest": {"dataset": "fashion", "source": ""}}
	folder := map[string]map[string]any{"ingest": {"dataset": "folder", "source": "/data/line"}}
	m := map[string]float64{"roc_auc": 0.97}
	run := func(id string, params map[string]map[string]any, metrics map[string]float64) *Run {
		return &Run{ID: id, Start: time.Unix(0, 0), Params: params, Metrics: metrics}
	}
	runs := []*Run{
		run("a", fashion, m), run("b", folder, m), run("c", fashion, nil), run("d", fashion, m),
		run("e", folder, m), run("f", fashion, nil),
	}
	ids := func(rs []*Run) (s []string) {
		for _, r := range rs {
			s = append(s, r.ID)
		}
		return s
	}
	for _, c := range []struct {
		name string
		of   *Run
		n    int
		want []string
	}{
		{"fashion, all", runs[5], 10, []string{"a", "d"}},
		{"fashion, last one", runs[5], 1, []string{"d"}},
		{"folder", runs[1], 10, []string{"b", "e"}},
		{"other data", run("x", map[string]map[string]any{"ingest": {"dataset": "mnist"}}, m), 10, nil},
		{"numbers read back as float64", run("y", map[string]map[string]any{"ingest": {"dataset": "folder", "source": "/data/line"}}, m), 10, []string{"b", "e"}},
	} {
		if got := ids(Recent(runs, c.of, c.n)); !slices.Equal(got, c.want) {
			t.Errorf("%s: Recent = %v, want %v", c.name, got, c.want)
		}
	}
	if got := LastWithMetrics(runs); got == nil || got.ID != "e" {
		t.Errorf("LastWithMetrics = %v, want e (f has no metrics)", got)
	}
	if got := LastWithMetrics(runs[2:3]); got != nil {
		t.Errorf("LastWithMetrics of a run without metrics = %v", got.ID)
	}
	// A recorded Dataset decides over the params: the same source and
	// classes under other params are the same data, and a run with a
	// Dataset is not the same as one without.
	line := &Dataset{Source: "/data/line", Classes: []string{"bolt", "nut"}}
	withData := func(id string, ds *Dataset, text string) *Run {
		r := run(id, map[string]map[string]any{"ingest": {"text": text}}, m)
		r.Dataset = ds
		return r
	}
	for _, c := range []struct {
		a, b *Run
		same bool
	}{
		{withData("1", line, "a"), withData("2", &Dataset{Source: "/data/line", Classes: []string{"bolt", "nut"}}, "b"), true},
		{withData("1", line, "a"), withData("2", &Dataset{Source: "/data/line", Classes: []string{"bolt"}}, "a"), false},
		{withData("1", line, "a"), withData("2", nil, "a"), false},
		{withData("1", nil, "a"), withData("2", nil, "a"), true},
		{withData("1", nil, "a"), withData("2", nil, "b"), false},
	} {
		if got := SameData(c.a, c.b); got != c.same {
			t.Errorf("SameData(%+v, %+v) = %v, want %v", c.a.Dataset, c.b.Dataset, got, c.same)
		}
	}
	// Ints as a run makes them, float64 as one read back from JSON.
	if !SameData(run("i", map[string]map[string]any{"ingest": {"image_size": 28}}, nil),
		run("j", map[string]map[string]any{"ingest": {"image_size": float64(28)}}, nil)) {
		t.Error("image_size 28 and 28.0 are not the same data")
	}
}
