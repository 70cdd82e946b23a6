package pipeline

import (
	"reflect"
	"strings"
	"testing"
)

func TestSweepBlock(t *testing.T) {
	cases := []struct {
		block string
		want  []SweepAxis
		err   string
	}{
		{"sweep:\n  gen.scale: [1e-3, 2]\n  gen.sizes: [[4, 2], [3]]\n", []SweepAxis{
			{Param: "gen.scale", Values: []string{"1e-3", "2"}, Line: 13},
			{Param: "gen.sizes", Values: []string{"[4, 2]", "[3]"}, Line: 14}}, ""},
		{"sweep:\n  gen.scale: [0, 2]\n", nil, "pipeline.yaml:13: sweep: gen.scale=0:"},
		{"sweep:\n  gen.nope: [1]\n", nil, "has no param \"nope\""},
		{"sweep:\n  gen.n: 3\n", nil, "want a non-empty list of values"},
		{"sweep: [1]\n", nil, "sweep: want a mapping"},
	}
	for _, c := range cases {
		p, err := Parse("pipeline.yaml", []byte(good+c.block), testCatalog)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.block, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p.Sweep, c.want) {
			t.Errorf("%q: %+v, want %+v", c.block, p.Sweep, c.want)
		}
	}
}
