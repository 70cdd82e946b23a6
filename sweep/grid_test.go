package sweep

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseAxis(t *testing.T) {
	cases := []struct {
		in     string
		param  string
		values []string
		err    string
	}{
		{"train.lr=1e-3,1.25e-3,1.5e-3", "train.lr", []string{"1e-3", "1.25e-3", "1.5e-3"}, ""},
		{"train.seed=1", "train.seed", []string{"1"}, ""},
		{"train.hidden=[512, 256],[256,128]", "train.hidden", []string{"[512, 256]", "[256,128]"}, ""},
		{`ingest.source="a,b",c`, "ingest.source", []string{`"a,b"`, "c"}, ""},
		{"train.lr=1e-3,,2e-3", "", nil, "empty value"},
		{"train.lr=", "", nil, "empty value"},
		{"train.hidden=[1,2", "", nil, "unclosed"},
		{"train.hidden=1]", "", nil, "unbalanced"},
		{"lr=1", "", nil, "want stage.param"},
		{"train.lr", "", nil, "want stage.param"},
	}
	for _, c := range cases {
		a, err := ParseAxis(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want one with %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || a.Param != c.param || !reflect.DeepEqual(a.Values, c.values) {
			t.Errorf("%q: %+v, %v; want %s %q", c.in, a, err, c.param, c.values)
		}
	}
}

func TestExpandAndMerge(t *testing.T) {
	axes := Merge([]Axis{{"train.lr", []string{"1", "2"}}, {"train.seed", []string{"7"}}},
		[]Axis{{"train.seed", []string{"1", "2", "3"}}, {"triplets.per_class", []string{"30"}}})
	grid, err := Expand(axes)
	if err != nil {
		t.Fatal(err)
	}
	if len(grid) != 6 {
		t.Fatalf("%d variants, want 6: %q", len(grid), grid)
	}
	want0 := []string{"train.lr=1", "train.seed=1", "triplets.per_class=30"}
	want5 := []string{"train.lr=2", "train.seed=3", "triplets.per_class=30"}
	if !reflect.DeepEqual(grid[0], want0) || !reflect.DeepEqual(grid[5], want5) {
		t.Errorf("grid %q", grid)
	}
	ids := map[string]bool{}
	for _, g := range grid {
		ids[VariantID(g)] = true
	}
	if len(ids) != 6 {
		t.Errorf("variant ids collide: %v", ids)
	}
	if _, err := Expand([]Axis{{"a.b", []string{"1"}}, {"a.b", []string{"2"}}}); err == nil {
		t.Error("a param swept twice is accepted")
	}
	for p, want := range map[string]bool{"train.seed": true, "split.seed": true, "x.init_seed": true, "train.seeds": false, "train.lr": false} {
		if IsSeed(p) != want {
			t.Errorf("IsSeed(%s) = %v", p, !want)
		}
	}
}

// FuzzParseAxis: whatever a user types, ParseAxis returns an error or
// non-empty values, and never panics.
func FuzzParseAxis(f *testing.F) {
	for _, s := range []string{"train.lr=1e-3,2e-3", "train.hidden=[1, 2],[3]", `a.b="x,y",'z'`, "a.b=[", "=,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAxis(s)
		if err != nil {
			return
		}
		if len(a.Values) == 0 {
			t.Fatalf("%q: no values and no error", s)
		}
		for _, v := range a.Values {
			if strings.TrimSpace(v) == "" {
				t.Fatalf("%q: empty value", s)
			}
		}
	})
}
