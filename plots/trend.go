package plots

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one metric over a sequence of runs: Values[i] is its value in
// run i, NaN where that run did not report it.
type Series struct {
	Name   string
	Values []float64
}

// Level is a horizontal line at Y, drawn dashed in the colour of the
// series named Series (e.g. a quality gate's minimum for that metric).
type Level struct {
	Series string
	Y      float64
	Label  string
}

// Trend plots each series against the runs, oldest first, labelled by
// runs (one short label each, e.g. the run's start time), with a dashed
// line at each level. Every series must have len(runs) values; runs must
// be non-empty; a level must be finite and name one of the series.
func Trend(path, title string, runs []string, series []Series, levels []Level) error {
	if len(runs) == 0 {
		return errors.New("plots: Trend: no runs")
	}
	if len(series) == 0 {
		return errors.New("plots: Trend: no series")
	}
	colour := map[string]int{}
	for i, s := range series {
		if len(s.Values) != len(runs) {
			return fmt.Errorf("plots: Trend: series %q has %d values, want %d", s.Name, len(s.Values), len(runs))
		}
		colour[s.Name] = i % len(Palette)
	}
	p := newPlot(title, "Run", "Value")
	p.X.Min, p.X.Max = 0.5, float64(len(runs))+0.5
	var entries []legendEntry
	for _, s := range series {
		var xys plotter.XYs
		for i, v := range s.Values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				xys = append(xys, plotter.XY{X: float64(i + 1), Y: v})
			}
		}
		if len(xys) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("plots: Trend: %w", err)
		}
		c := Palette[colour[s.Name]]
		l.Color, l.Width = c, vg.Points(2)
		pts.Color, pts.Shape, pts.Radius = c, draw.CircleGlyph{}, vg.Points(3)
		p.Add(l, pts)
		entries = append(entries, legendEntry{s.Name, []plot.Thumbnailer{l, pts}})
	}
	for _, lv := range levels {
		i, ok := colour[lv.Series]
		if !ok {
			return fmt.Errorf("plots: Trend: level %q names no series %q", lv.Label, lv.Series)
		}
		if math.IsNaN(lv.Y) || math.IsInf(lv.Y, 0) {
			return fmt.Errorf("plots: Trend: level %q at %v", lv.Label, lv.Y)
		}
		r := &rule{at: lv.Y}
		r.Color, r.Width = Palette[i], vg.Points(1.5)
		r.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		p.Add(r)
		entries = append(entries, legendEntry{lv.Label, []plot.Thumbnailer{r}})
	}
	p.X.Tick.Marker = runTicks(runs)
	return save(path, p, entries, 8*vg.Inch, 4.5*vg.Inch)
}

// runTicks labels the runs on the x axis: every run when there are few,
// otherwise about eight evenly spaced ones and always the last.
type runTicks []string

func (r runTicks) Ticks(lo, hi float64) []plot.Tick {
	step := max(1, int(math.Ceil(float64(len(r))/8)))
	var ticks []plot.Tick
	for i := range r {
		t := plot.Tick{Value: float64(i + 1)}
		if (len(r)-1-i)%step == 0 {
			t.Label = r[i]
		}
		ticks = append(ticks, t)
	}
	return ticks
}
