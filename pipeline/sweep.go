package pipeline

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// SweepAxis is one param of a pipeline file's sweep block and its values,
// each written as --set writes a value.
type SweepAxis struct {
	Param  string // stage.param
	Values []string
	Line   int
}

// parseSweep parses a sweep block: a mapping of stage.param to a list of
// values,
//
//	sweep:
//	  train.lr: [1e-3, 1.25e-3]
//	  train.hidden: [[512, 256], [256, 128]]
func parseSweep(val *yaml.Node, fail failFunc) ([]SweepAxis, error) {
	if val.Kind != yaml.MappingNode {
		return nil, fail(val, "sweep: want a mapping of stage.param to a list of values, got %s", describe(val))
	}
	var axes []SweepAxis
	err := eachKey(val, fail, func(k, v *yaml.Node) error {
		if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
			return fail(v, "sweep: %s: want a non-empty list of values, got %s", k.Value, describe(v))
		}
		a := SweepAxis{Param: k.Value, Line: k.Line}
		for _, n := range v.Content {
			if n.Kind == yaml.ScalarNode {
				a.Values = append(a.Values, n.Value)
				continue
			}
			c := *n
			c.Style = yaml.FlowStyle
			data, err := yaml.Marshal(&c)
			if err != nil {
				return fail(n, "sweep: %s: %v", k.Value, err)
			}
			a.Values = append(a.Values, strings.TrimSpace(string(data)))
		}
		axes = append(axes, a)
		return nil
	})
	return axes, err
}

// checkSweep checks each value of the sweep block as --set would.
func (p *Pipeline) checkSweep() error {
	for _, a := range p.Sweep {
		for _, v := range a.Values {
			if _, _, _, err := p.parseSet(a.Param + "=" + v); err != nil {
				msg := err.Error()
				if e, ok := err.(*Error); ok {
					msg = e.Msg
				}
				return &Error{File: p.File, Line: a.Line, Msg: fmt.Sprintf("sweep: %s=%s: %s", a.Param, v, msg)}
			}
		}
	}
	return nil
}
