package pipeline

import (
	"fmt"
	"maps"
	"slices"

	"go.yaml.in/yaml/v3"
)

// Params holds a stage's params after defaults are filled in and types
// checked: every value has the type of its Param's Default.
type Params map[string]any

// Int returns an int param; zero if name is not an int param.
func (p Params) Int(name string) int { v, _ := p[name].(int); return v }

// Float returns a float64 param; zero if name is not a float64 param.
func (p Params) Float(name string) float64 { v, _ := p[name].(float64); return v }

// String returns a string param; "" if name is not a string param.
func (p Params) String(name string) string { v, _ := p[name].(string); return v }

// Bool returns a bool param; false if name is not a bool param.
func (p Params) Bool(name string) bool { v, _ := p[name].(bool); return v }

// Ints returns a copy of an []int param; nil if name is not one.
func (p Params) Ints(name string) []int { v, _ := p[name].([]int); return slices.Clone(v) }

// Names returns the param names in sorted order.
func (p Params) Names() []string { return slices.Sorted(maps.Keys(p)) }

// typeName names the type of a param's default in messages.
func typeName(v any) string {
	switch v.(type) {
	case int:
		return "int"
	case float64:
		return "float"
	case string:
		return "string"
	case bool:
		return "bool"
	case []int:
		return "list of int"
	}
	return fmt.Sprintf("%T", v)
}

// decodeParam decodes a YAML value into the type of def.
func decodeParam(n *yaml.Node, def any) (any, error) {
	wrong := func() error {
		return fmt.Errorf("want %s, got %s", typeName(def), describe(n))
	}
	switch def.(type) {
	case int:
		var v int
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil {
			return nil, wrong()
		}
		return v, nil
	case float64:
		var v float64
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!float" && n.ShortTag() != "!!int") || n.Decode(&v) != nil {
			return nil, wrong()
		}
		return v, nil
	case string:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			return nil, wrong()
		}
		return n.Value, nil
	case bool:
		var v bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&v) != nil {
			return nil, wrong()
		}
		return v, nil
	case []int:
		if n.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("%v (write a list as [256, 128], or 256,128 with --set)", wrong())
		}
		v := make([]int, 0, len(n.Content))
		for _, item := range n.Content {
			x, err := decodeParam(item, 0)
			if err != nil {
				return nil, fmt.Errorf("want list of int, got %s in the list (write a list as [256, 128], or 256,128 with --set)", describe(item))
			}
			v = append(v, x.(int))
		}
		return v, nil
	}
	return nil, fmt.Errorf("param type %T is not supported", def)
}

// describe names what a YAML node holds, for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.ShortTag() {
	case "!!str":
		return fmt.Sprintf("string %q", n.Value)
	case "!!int":
		return "int " + n.Value
	case "!!float":
		return "float " + n.Value
	case "!!bool":
		return "bool " + n.Value
	case "!!null":
		return "null"
	}
	return n.Value
}
