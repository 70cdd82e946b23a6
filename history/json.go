package history

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/siamese-pipeline/siamese/pipeline"
)

// jsonFloat is a float64 that survives JSON even when it is NaN or ±Inf
// (written as the strings "NaN", "Inf", "-Inf", which Python's json reads
// back with a small hook and pandas shows as they are).
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	x := float64(f)
	switch {
	case math.IsNaN(x):
		return []byte(`"NaN"`), nil
	case math.IsInf(x, 1):
		return []byte(`"Inf"`), nil
	case math.IsInf(x, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, x, 'g', -1, 64), nil
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		x, ok := specialFloat(s)
		if !ok {
			return fmt.Errorf("not a number: %q", s)
		}
		*f = jsonFloat(x)
		return nil
	}
	var x float64
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*f = jsonFloat(x)
	return nil
}

// The on-disk form of the records, with lower-case keys.
type runJSON struct {
	ID       string                    `json:"id"`
	Start    time.Time                 `json:"start"`
	End      time.Time                 `json:"end"`
	Seconds  jsonFloat                 `json:"seconds"`
	Program  string                    `json:"program"`
	Pipeline string                    `json:"pipeline"`
	Outcome  string                    `json:"outcome"`
	Error    string                    `json:"error,omitempty"`
	Params   map[string]map[string]any `json:"params"`
	Stages   []stageJSON               `json:"stages"`
	Metrics  map[string]jsonFloat      `json:"metrics"`
	Gate     []checkJSON               `json:"gate,omitempty"`
	File     string                    `json:"file,omitempty"`
	Dataset  *datasetJSON              `json:"dataset,omitempty"`
	Baseline string                    `json:"gate_baseline,omitempty"`
	Sweep    string                    `json:"sweep,omitempty"`
	Variant  string                    `json:"variant,omitempty"`
}

type datasetJSON struct {
	Source  string   `json:"source"`
	Classes []string `json:"classes"`
}

type stageJSON struct {
	Name    string    `json:"name"`
	Outcome string    `json:"outcome"`
	Reason  string    `json:"reason,omitempty"`
	Error   string    `json:"error,omitempty"`
	Seconds jsonFloat `json:"seconds"`
}

type checkJSON struct {
	Metric  string    `json:"metric"`
	Rule    string    `json:"rule"`
	Value   jsonFloat `json:"value"`
	Pass    bool      `json:"pass"`
	Message string    `json:"message,omitempty"`
}

// MarshalJSON writes the record with lower-case keys; NaN and ±Inf metric
// values become the strings "NaN", "Inf" and "-Inf".
func (r Run) MarshalJSON() ([]byte, error) {
	w := runJSON{ID: r.ID, Start: r.Start, End: r.End, Seconds: jsonFloat(r.Seconds()),
		Program: r.Program, Pipeline: r.Pipeline, Outcome: r.Outcome, Error: r.Error,
		Params: r.paramsJSON(), Stages: []stageJSON{}, Metrics: map[string]jsonFloat{},
		File: r.File, Baseline: r.Baseline, Sweep: r.Sweep, Variant: r.Variant}
	if r.Dataset != nil {
		w.Dataset = &datasetJSON{r.Dataset.Source, r.Dataset.Classes}
	}
	for _, s := range r.Stages {
		w.Stages = append(w.Stages, stageJSON{s.Name, s.Outcome, s.Reason, s.Error, jsonFloat(s.Seconds)})
	}
	for k, v := range r.Metrics {
		w.Metrics[k] = jsonFloat(v)
	}
	for _, c := range r.Gate {
		w.Gate = append(w.Gate, checkJSON{c.Metric, c.Rule, jsonFloat(c.Value), c.Pass, c.Message})
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON writes. Numeric params come back as
// float64, as encoding/json decodes numbers.
func (r *Run) UnmarshalJSON(b []byte) error {
	var w runJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = Run{ID: w.ID, Start: w.Start, End: w.End, Program: w.Program, Pipeline: w.Pipeline,
		Params: w.Params, Outcome: w.Outcome, Error: w.Error, File: w.File, Baseline: w.Baseline, Sweep: w.Sweep, Variant: w.Variant}
	if w.Dataset != nil {
		r.Dataset = &Dataset{w.Dataset.Source, w.Dataset.Classes}
	}
	for _, s := range w.Stages {
		r.Stages = append(r.Stages, Stage{s.Name, s.Outcome, s.Reason, s.Error, float64(s.Seconds)})
	}
	if w.Metrics != nil {
		r.Metrics = make(map[string]float64, len(w.Metrics))
		for k, v := range w.Metrics {
			r.Metrics[k] = float64(v)
		}
	}
	for _, c := range w.Gate {
		r.Gate = append(r.Gate, Check{c.Metric, c.Rule, float64(c.Value), c.Pass, c.Message})
	}
	return nil
}

// StageParams returns the params of every stage of p, stage → param →
// value, for Run.Params.
func StageParams(p *pipeline.Pipeline) map[string]map[string]any {
	out := make(map[string]map[string]any, len(p.Stages))
	for _, s := range p.Stages {
		m := make(map[string]any, len(s.Params))
		for k, v := range s.Params {
			m[k] = v
		}
		out[s.Name] = m
	}
	return out
}
