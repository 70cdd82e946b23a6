package pipeline

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Threshold is one rule of the quality gate, checked after a run on the
// metrics the run's stages report.
type Threshold struct {
	// Metric names a metric, such as "roc_auc".
	Metric string
	// Min, if set, is the lowest acceptable value.
	Min *float64
	// MaxDrop, if set, is how far the metric may fall below its value in
	// the last successful run.
	MaxDrop *float64
	Line    int
}

func parseGate(n *yaml.Node, fail failFunc) ([]Threshold, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, fail(n, "gate: want a list of thresholds, got %s", describe(n))
	}
	var gate []Threshold
	for _, item := range n.Content {
		if item.Kind != yaml.MappingNode {
			return nil, fail(item, "gate: want a mapping like {metric: roc_auc, min: 0.96}, got %s", describe(item))
		}
		t := Threshold{Line: item.Line}
		err := eachKey(item, fail, func(k, v *yaml.Node) error {
			switch k.Value {
			case "metric":
				if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" || v.Value == "" {
					return fail(v, "gate: metric: want a metric name, got %s", describe(v))
				}
				t.Metric = v.Value
			case "min", "max_drop":
				x, err := decodeParam(v, 0.0)
				if err != nil {
					return fail(v, "gate: %s: %v", k.Value, err)
				}
				f := x.(float64)
				if k.Value == "min" {
					t.Min = &f
				} else {
					t.MaxDrop = &f
				}
			default:
				return fail(k, "gate: unknown key %q (want metric, min or max_drop)", k.Value)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if t.Metric == "" || (t.Min == nil && t.MaxDrop == nil) {
			return nil, fail(item, "gate: each threshold needs a metric and min or max_drop")
		}
		gate = append(gate, t)
	}
	return gate, nil
}

func (t Threshold) String() string {
	s := t.Metric
	if t.Min != nil {
		s += fmt.Sprintf(" ≥ %g", *t.Min)
	}
	if t.MaxDrop != nil {
		s += fmt.Sprintf(", at most %g below the last good run", *t.MaxDrop)
	}
	return s
}
