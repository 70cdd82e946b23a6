package idref

import (
	"slices"
	"testing"
)

func TestMatch(t *testing.T) {
	ids := []string{"20261201T1700-a1", "20261201T1700-a12", "20261201T1800-b2", "20261202T0900-c3"}
	for _, tc := range []struct {
		ref  string
		want []string
	}{
		{"20261201T1800-b2", []string{"20261201T1800-b2"}},                 // exact
		{"20261201T1700-a1", []string{"20261201T1700-a1"}},                 // exact wins over a longer id it prefixes
		{"20261202", []string{"20261202T0900-c3"}},                         // unique prefix
		{"20261201T17", []string{"20261201T1700-a1", "20261201T1700-a12"}}, // ambiguous, in order
		{"2027", nil}, // none
		{"", ids},     // every id starts with ""
	} {
		got := Match(ids, tc.ref, func(s string) string { return s })
		if !slices.Equal(got, tc.want) {
			t.Errorf("Match(%q) = %v, want %v", tc.ref, got, tc.want)
		}
	}
}
