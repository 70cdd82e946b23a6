package pipeline

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// checkValue checks a decoded param value against what its Param
// declares: Range for numbers (each element of a list), Choices for
// strings, a non-empty list for lists.
func (def Param) checkValue(v any) error {
	if len(def.Choices) > 0 {
		s, _ := v.(string)
		if !slices.Contains(def.Choices, s) {
			return fmt.Errorf("%q is not one of %s", s, strings.Join(def.Choices, ", "))
		}
	}
	if def.Range == "" {
		return nil
	}
	r, err := parseRange(def.Range)
	if err != nil {
		return fmt.Errorf("the stage declares a bad range: %w", err)
	}
	switch x := v.(type) {
	case int:
		return r.check(float64(x), strconv.Itoa(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%v is not a finite number", x)
		}
		return r.check(x, strconv.FormatFloat(x, 'g', -1, 64))
	case []int:
		if len(x) == 0 {
			return fmt.Errorf("want at least one value")
		}
		for _, e := range x {
			if err := r.check(float64(e), strconv.Itoa(e)); err != nil {
				return err
			}
		}
	}
	return nil
}

// interval is a parsed Range: "[1, 100]", "(0, 1)", "[0, )".
type interval struct {
	lo, hi         float64
	loOpen, hiOpen bool // the bound itself is excluded
	text           string
}

// parseRange parses interval notation: '[' or '(' , a lower bound or
// nothing, ',', an upper bound or nothing, ']' or ')'. A missing bound is
// unbounded.
func parseRange(s string) (interval, error) {
	t := strings.TrimSpace(s)
	bad := fmt.Errorf("range %q: want interval notation such as [1, 100], (0, 1) or [0, )", s)
	if len(t) < 3 || !strings.ContainsRune("[(", rune(t[0])) || !strings.ContainsRune("])", rune(t[len(t)-1])) {
		return interval{}, bad
	}
	lo, hi, ok := strings.Cut(t[1:len(t)-1], ",")
	if !ok {
		return interval{}, bad
	}
	r := interval{lo: math.Inf(-1), hi: math.Inf(1), loOpen: t[0] == '(', hiOpen: t[len(t)-1] == ')', text: t}
	var err error
	if lo = strings.TrimSpace(lo); lo != "" {
		if r.lo, err = strconv.ParseFloat(lo, 64); err != nil {
			return interval{}, bad
		}
	}
	if hi = strings.TrimSpace(hi); hi != "" {
		if r.hi, err = strconv.ParseFloat(hi, 64); err != nil {
			return interval{}, bad
		}
	}
	if r.lo > r.hi {
		return interval{}, bad
	}
	return r, nil
}

func (r interval) check(x float64, text string) error {
	below := x < r.lo || (r.loOpen && x == r.lo)
	above := x > r.hi || (r.hiOpen && x == r.hi)
	if below || above {
		return fmt.Errorf("%s is out of range %s", text, r.text)
	}
	return nil
}

// checkParams checks every param of a stage against its Param, then the
// Spec's rules across params. bad says how to report a param's error.
func (s *Stage) checkParams(bad func(param string, err error) error) error {
	for _, def := range s.Spec.Params {
		if err := def.checkValue(s.Params[def.Name]); err != nil {
			return bad(def.Name, err)
		}
	}
	if s.Spec.Check != nil {
		if err := s.Spec.Check(s.Params); err != nil {
			return bad("", err)
		}
	}
	return nil
}
