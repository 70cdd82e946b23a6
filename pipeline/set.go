package pipeline

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Set applies an override written "stage.param=value", the value in YAML
// syntax and of the param's type.
func (p *Pipeline) Set(assign string) error {
	fail := func(format string, args ...any) error {
		return &Error{File: "--set " + assign, Msg: fmt.Sprintf(format, args...)}
	}
	key, value, ok := strings.Cut(assign, "=")
	stage, param, ok2 := strings.Cut(key, ".")
	if !ok || !ok2 || stage == "" || param == "" {
		return fail("want stage.param=value")
	}
	s := p.byName[stage]
	if s == nil {
		return fail("no stage %q", stage)
	}
	def, ok := s.Spec.param(param)
	if !ok {
		return fail("stage %s has no param %q (known: %s)", stage, param, strings.Join(s.Spec.paramNames(), ", "))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(value), &doc); err != nil {
		return fail("value: %v", err)
	}
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: ""}
	if len(doc.Content) > 0 {
		n = doc.Content[0]
	}
	v, err := decodeParam(n, def.Default)
	if err != nil {
		return fail("%v", err)
	}
	if err := def.checkValue(v); err != nil {
		return fail("%v", err)
	}
	old := s.Params[param]
	s.Params[param] = v
	if s.Spec.Check != nil {
		if err := s.Spec.Check(s.Params); err != nil {
			s.Params[param] = old
			return fail("stage %s: %v", stage, err)
		}
	}
	return nil
}
