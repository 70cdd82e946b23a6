package pipeline

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Set applies an override written "stage.param=value", the value in YAML
// syntax and of the param's type.
func (p *Pipeline) Set(assign string) error {
	return p.SetAll([]string{assign})
}

// SetAll applies overrides as Set does, each checked against its param's
// declaration, and then checks each stage whose params they changed
// against its rules across params, once all are applied: a rule that
// ties two params (a folder dataset needs a source) holds for
// --set ingest.dataset=folder --set ingest.source=DIR in either order.
// On an error the params are as they were.
func (p *Pipeline) SetAll(assigns []string) error {
	type undo struct {
		s     *Stage
		param string
		old   any
	}
	var undos []undo
	rollback := func() {
		for i := len(undos) - 1; i >= 0; i-- {
			undos[i].s.Params[undos[i].param] = undos[i].old
		}
	}
	var touched []*Stage
	last := map[*Stage]string{}
	for _, a := range assigns {
		s, param, v, err := p.parseSet(a)
		if err != nil {
			rollback()
			return err
		}
		undos = append(undos, undo{s, param, s.Params[param]})
		s.Params[param] = v
		if _, ok := last[s]; !ok {
			touched = append(touched, s)
		}
		last[s] = a
	}
	for _, s := range touched {
		if s.Spec.Check != nil {
			if err := s.Spec.Check(s.Params); err != nil {
				rollback()
				return &Error{File: "--set " + last[s], Msg: fmt.Sprintf("stage %s: %v", s.Name, err)}
			}
		}
	}
	return nil
}

// parseSet parses and checks one override against its param's declaration.
func (p *Pipeline) parseSet(assign string) (*Stage, string, any, error) {
	fail := func(format string, args ...any) (*Stage, string, any, error) {
		return nil, "", nil, &Error{File: "--set " + assign, Msg: fmt.Sprintf(format, args...)}
	}
	key, value, ok := strings.Cut(assign, "=")
	stage, param, ok2 := strings.Cut(key, ".")
	if !ok && ok2 && stage != "" && param != "" && !strings.ContainsAny(key, " \t") {
		return fail("want stage.param=value: write --set %s=VALUE, with = and no space", key)
	}
	if !ok || !ok2 || stage == "" || param == "" {
		return fail("want stage.param=value")
	}
	s := p.byName[stage]
	if s == nil {
		return fail("%s", p.noStage(stage))
	}
	def, ok := s.Spec.param(param)
	if !ok {
		return fail("stage %s has no param %q (known: %s)", stage, param, strings.Join(s.Spec.paramNames(), ", "))
	}
	if _, list := def.Default.([]int); list && value != "" && !strings.HasPrefix(strings.TrimSpace(value), "[") {
		value = "[" + value + "]" // 256,128: a list written as the shell lets one write it
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
	return s, param, v, nil
}
