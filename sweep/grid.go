// Package sweep runs many variants of a pipeline, one artifacts root
// each, over a grid of param values: the stages whose fingerprints are
// the same in several variants run once and are shared (a Store), the
// variants run a few at a time under one lock, resume where a killed
// sweep stopped, and are compared in a Table that groups the variants
// differing only by seed and picks the best group by a validation metric.
package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Axis is one param of a sweep and the values it takes, each written as
// --set writes a value (YAML: 1e-3, "[512, 256]").
type Axis struct {
	Param  string   `json:"param"` // stage.param
	Values []string `json:"values"`
}

// ParseAxis parses "stage.param=v1,v2,...": a comma separates values,
// except inside brackets or braces, so a list param's values are written
// "train.hidden=[512, 256],[256, 128]".
func ParseAxis(s string) (Axis, error) {
	key, list, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	stage, param, ok2 := strings.Cut(key, ".")
	if !ok || !ok2 || stage == "" || param == "" {
		return Axis{}, fmt.Errorf("--set %s: want stage.param=value[,value...]", s)
	}
	values, err := splitValues(list)
	if err != nil {
		return Axis{}, fmt.Errorf("--set %s: %w", s, err)
	}
	return Axis{Param: key, Values: values}, nil
}

// splitValues splits a list of values at the commas outside brackets,
// braces and quotes.
func splitValues(list string) ([]string, error) {
	var (
		values []string
		depth  int
		quote  rune
		start  int
	)
	add := func(end int) error {
		v := strings.TrimSpace(list[start:end])
		if v == "" {
			return fmt.Errorf("empty value in %q", list)
		}
		values = append(values, v)
		return nil
	}
	for i, c := range list {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("unbalanced %q in %q", c, list)
			}
		case c == ',' && depth == 0:
			if err := add(i); err != nil {
				return nil, err
			}
			start = i + 1
		}
	}
	if depth != 0 || quote != 0 {
		return nil, fmt.Errorf("unclosed bracket or quote in %q", list)
	}
	if err := add(len(list)); err != nil {
		return nil, err
	}
	return values, nil
}

// Merge returns the axes of base with over's: an axis of over replaces
// base's axis of the same param, where it stands; the others follow.
func Merge(base, over []Axis) []Axis {
	out := append([]Axis{}, base...)
	for _, o := range over {
		replaced := false
		for i := range out {
			if out[i].Param == o.Param {
				out[i], replaced = o, true
			}
		}
		if !replaced {
			out = append(out, o)
		}
	}
	return out
}

// Expand returns the grid's variants, each as its --set assignments in
// the axes' order; the first axis varies slowest. A param given twice is
// an error.
func Expand(axes []Axis) ([][]string, error) {
	seen := map[string]bool{}
	for _, a := range axes {
		if seen[a.Param] {
			return nil, fmt.Errorf("param %s is swept twice", a.Param)
		}
		if len(a.Values) == 0 {
			return nil, fmt.Errorf("param %s has no values", a.Param)
		}
		seen[a.Param] = true
	}
	grid := [][]string{nil}
	for _, a := range axes {
		var next [][]string
		for _, g := range grid {
			for _, v := range a.Values {
				next = append(next, append(append([]string{}, g...), a.Param+"="+v))
			}
		}
		grid = next
	}
	return grid, nil
}

// VariantID names a variant by its assignments: the first 10 hex digits
// of their hash.
func VariantID(sets []string) string {
	sum := sha256.Sum256([]byte(strings.Join(sets, "\n")))
	return hex.EncodeToString(sum[:5])
}

// IsSeed says whether a param is a seed, whose variants a Table groups:
// "seed", or a name ending in "_seed", of any stage.
func IsSeed(param string) bool {
	_, name, _ := strings.Cut(param, ".")
	return name == "seed" || strings.HasSuffix(name, "_seed")
}
