package sweep

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestPlot(t *testing.T) {
	dir := t.TempDir()
	st := state3x3(t)
	words := &State{Name: "m", Axes: []Axis{{"train.mining", []string{"fixed", "batch-hard"}}, {"train.seed", []string{"1", "2"}}}}
	grid, _ := Expand(words.Axes)
	for i, sets := range grid {
		words.Variants = append(words.Variants, &Variant{ID: VariantID(sets), Sets: sets, Status: Done,
			Metrics: map[string]float64{"val_loss": float64(i)}})
	}
	for name, c := range map[string]struct {
		st   *State
		by   string
		want bool
	}{"numbers": {st, "val_loss", true}, "words": {words, "val_loss", true}, "no such metric": {st, "val_nope", false}} {
		tb, err := NewTable(c.st, c.by, "")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".png")
		ok, err := tb.Plot(path)
		if err != nil || ok != c.want {
			t.Errorf("%s: %v, %v; want %v", name, ok, err, c.want)
			continue
		}
		data, err := os.ReadFile(path)
		if !c.want {
			if err == nil {
				t.Errorf("%s: a plot was written", name)
			}
			continue
		}
		if _, err := png.Decode(bytes.NewReader(data)); err != nil {
			t.Errorf("%s: not a PNG: %v", name, err)
		}
	}
}
