package history

import (
	"encoding/json"
	"testing"
)

func TestBaseline(t *testing.T) {
	fashion := &Dataset{Source: "/data/fashion", Classes: []string{"a", "b"}}
	folder := &Dataset{Source: "/data/line", Classes: []string{"bolt", "nut"}}
	gate := []Check{{Metric: "roc_auc", Pass: true}}
	run := func(id, outcome, file string, ds *Dataset, gate []Check) *Run {
		return &Run{ID: id, Outcome: outcome, File: file, Dataset: ds, Gate: gate}
	}
	tests := []struct {
		name string
		runs []*Run
		file string
		ds   *Dataset
		want string
	}{
		{"same file and dataset", []*Run{run("1", OK, "/p.yaml", fashion, gate)}, "/p.yaml", fashion, "1"},
		{"the last of several", []*Run{run("1", OK, "/p.yaml", fashion, gate), run("2", OK, "/p.yaml", fashion, gate)}, "/p.yaml", fashion, "2"},
		{"another dataset is skipped", []*Run{run("1", OK, "/p.yaml", fashion, gate), run("2", OK, "/p.yaml", folder, gate)}, "/p.yaml", fashion, "1"},
		{"same source, other classes", []*Run{run("1", OK, "/p.yaml", &Dataset{Source: "/data/fashion", Classes: []string{"a"}}, gate)}, "/p.yaml", fashion, ""},
		{"another pipeline file", []*Run{run("1", OK, "/q.yaml", fashion, gate)}, "/p.yaml", fashion, ""},
		{"a record without a file", []*Run{run("1", OK, "", fashion, gate)}, "/p.yaml", fashion, ""},
		{"a failed gate", []*Run{run("1", GateFailed, "/p.yaml", fashion, gate)}, "/p.yaml", fashion, ""},
		{"no gate checked", []*Run{run("1", OK, "/p.yaml", fashion, nil)}, "/p.yaml", fashion, ""},
		{"a run with no dataset to a run with one", []*Run{run("1", OK, "/p.yaml", nil, gate)}, "/p.yaml", fashion, ""},
		{"no dataset on either side", []*Run{run("1", OK, "/p.yaml", nil, gate)}, "/p.yaml", nil, "1"},
	}
	for _, tt := range tests {
		got := ""
		if b := Baseline(tt.runs, tt.file, tt.ds); b != nil {
			got = b.ID
		}
		if got != tt.want {
			t.Errorf("%s: baseline %q, want %q", tt.name, got, tt.want)
		}
	}
}

// The new fields survive the record's JSON.
func TestRunJSONDataset(t *testing.T) {
	r := &Run{ID: "x", Outcome: OK, File: "/p.yaml", Baseline: "y",
		Dataset: &Dataset{Source: "/data/line", Classes: []string{"bolt", "nut"}}}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Run
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.File != r.File || back.Baseline != r.Baseline || !back.Dataset.Same(r.Dataset) {
		t.Errorf("round trip: %+v, want %+v (%s)", back, r, data)
	}
}
