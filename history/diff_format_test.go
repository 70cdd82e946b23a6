package history

import (
	"math"
	"testing"
)

// runs diff writes counts as integers and metrics to 4 decimals, and
// lists no change that 4 decimals cannot show.
func TestDiffFormats(t *testing.T) {
	for _, tt := range []struct {
		name     string
		old, new float64
		want     []string // Old, New; nil: no change listed
	}{
		{"a count", 10000, 49290, []string{"10000", "49290 (+39290)"}},
		{"a metric", 0.84371, 0.86623, []string{"0.8437", "0.8662 (+0.0225)"}},
		{"a rounding's difference", 1, 1.0000000000000002, nil},
		{"below 4 decimals", 0.97171, 0.97174, nil},
		{"a fall", 1, 0.9717, []string{"1", "0.9717 (-0.0283)"}},
		{"NaN to a number", math.NaN(), 0.5, []string{"NaN", "0.5000"}},
		{"a large non-integer", 4.929e4 + 0.25, 4.929e4, []string{"49290.2500", "49290 (-0.2500)"}},
	} {
		got := Diff(&Run{Metrics: map[string]float64{"m": tt.old}}, &Run{Metrics: map[string]float64{"m": tt.new}})
		switch {
		case tt.want == nil && len(got) != 0:
			t.Errorf("%s: %+v, want no change", tt.name, got)
		case tt.want != nil && (len(got) != 1 || got[0].Old != tt.want[0] || got[0].New != tt.want[1]):
			t.Errorf("%s: %+v, want %q → %q", tt.name, got, tt.want[0], tt.want[1])
		}
	}
}
