package pipeline

import (
	"slices"
	"strings"
	"testing"
)

// How --set reads the ways people write lists, and what it says to the
// ways they mistype an override.
func TestSetListsAndHints(t *testing.T) {
	for _, tt := range []struct {
		assign string
		sizes  []int  // the list set, when it is accepted
		want   string // the error, when it is not
	}{
		{"gen.sizes=3,2", []int{3, 2}, ""},
		{"gen.sizes=[3,2]", []int{3, 2}, ""},
		{"gen.sizes=[3, 2]", []int{3, 2}, ""},
		{"gen.sizes=5", []int{5}, ""},
		{"gen.sizes=a,b", nil, `want list of int, got string "a" in the list (write a list as [256, 128], or 256,128 with --set)`},
		{"gen.sizes=", nil, "want list of int, got string \"\" (write a list as [256, 128], or 256,128 with --set)"},
		{"gen.n", nil, "--set gen.n: want stage.param=value: write --set gen.n=VALUE, with = and no space"},
		{"gne.n=1", nil, `no stage "gne"; did you mean "gen"?`},
		{"gate.roc_auc=0.9", nil, `no stage "gate": the quality gate's thresholds are the gate: block of p.yaml`},
	} {
		p, err := Parse("p.yaml", []byte(good), testCatalog)
		if err != nil {
			t.Fatal(err)
		}
		err = p.Set(tt.assign)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Set(%q): %v", tt.assign, err)
		case tt.want == "" && !slices.Equal(p.Stage("gen").Params.Ints("sizes"), tt.sizes):
			t.Errorf("Set(%q): sizes %v, want %v", tt.assign, p.Stage("gen").Params.Ints("sizes"), tt.sizes)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Set(%q): %v, want %q", tt.assign, err, tt.want)
		}
	}
}
