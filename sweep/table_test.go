package sweep

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
)

// state3x3 is a finished 3 lr × 3 seed sweep whose val_loss is lr*10 +
// seed/100 and roc_auc 1 - val_loss; one variant failed.
func state3x3(t *testing.T) *State {
	t.Helper()
	axes := []Axis{{"train.lr", []string{"1", "2", "3"}}, {"train.seed", []string{"1", "2", "3"}}, {"triplets.per_class", []string{"30"}}}
	grid, err := Expand(axes)
	if err != nil {
		t.Fatal(err)
	}
	st := &State{Name: "s", Axes: axes}
	for i, sets := range grid {
		lr, seed := float64(i/3+1), float64(i%3+1)
		v := &Variant{ID: VariantID(sets), Sets: sets, Status: Done, Run: "run" + string(rune('a'+i)),
			Metrics: map[string]float64{"val_loss": lr*10 + seed/100, "roc_auc": 1 - (lr*10+seed/100)/100}}
		if i == 8 {
			v.Status, v.Metrics, v.Run = Failed, nil, ""
		}
		st.Variants = append(st.Variants, v)
	}
	return st
}

func TestTableGroupsBySeed(t *testing.T) {
	st := state3x3(t)
	cases := []struct {
		by, goal string
		best     string // lr of the best group
	}{
		{"val_loss", "", "1"}, // lowest loss
		{"roc_auc", "", "1"},  // highest AUC
		{"val_loss", Max, "3"},
		{"roc_auc", Min, "3"},
	}
	for _, c := range cases {
		tb, err := NewTable(st, c.by, c.goal)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(tb.Params, []string{"train.lr", "train.seed"}) || len(tb.Groups) != 3 || tb.Metrics[0] != c.by {
			t.Fatalf("params %v, metrics %v, %d groups", tb.Params, tb.Metrics, len(tb.Groups))
		}
		g := tb.BestGroup()
		if g == nil || g.Params["train.lr"] != c.best {
			t.Errorf("by %s %s: best group %+v, want lr %s", c.by, c.goal, g, c.best)
		}
	}
	tb, _ := NewTable(st, "val_loss", "")
	g := tb.Groups[1] // lr 2: 20.01, 20.02, 20.03
	if g.N != 3 || math.Abs(g.Mean["val_loss"]-20.02) > 1e-12 || math.Abs(g.SD["val_loss"]-0.01) > 1e-12 {
		t.Errorf("lr 2: n %d, mean %v, sd %v; want 3, 20.02, 0.01", g.N, g.Mean["val_loss"], g.SD["val_loss"])
	}
	g = tb.Groups[2] // lr 3: one failed
	if g.N != 2 || math.Abs(g.Mean["val_loss"]-30.015) > 1e-12 || len(g.Variants) != 3 {
		t.Errorf("lr 3: n %d, mean %v, variants %v", g.N, g.Mean["val_loss"], g.Variants)
	}
	if v := tb.BestVariant(); v == nil || v.Params["train.lr"] != "1" || v.Params["train.seed"] != "1" {
		t.Errorf("best variant %+v", v)
	}
	var text bytes.Buffer
	if err := tb.WriteText(&text, []string{"roc_auc"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"*     1         3  10.02 ± 0.01", "3         2  30.015 ± 0.0070711", "failed", "lower is better"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
}

func TestTableRoundTrip(t *testing.T) {
	tb, err := NewTable(state3x3(t), "val_loss", "")
	if err != nil {
		t.Fatal(err)
	}
	var js, cs bytes.Buffer
	if err := tb.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(&js)
	if err != nil || !reflect.DeepEqual(back, tb) {
		t.Errorf("JSON round trip: %v\n%+v\n%+v", err, back, tb)
	}
	if err := tb.WriteCSV(&cs); err != nil {
		t.Fatal(err)
	}
	back, err = ReadCSV(&cs)
	if err != nil {
		t.Fatal(err)
	}
	back.Name, back.By, back.Goal = tb.Name, tb.By, tb.Goal
	if !reflect.DeepEqual(back, tb) {
		t.Errorf("CSV round trip:\n%+v\n%+v", back, tb)
	}
	if _, err := ReadCSV(strings.NewReader("a,b\n1,2\n")); err == nil {
		t.Error("a CSV that is not a sweep table is read")
	}
}
