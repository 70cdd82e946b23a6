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

// SweepSeries is one line of a sweep plot: for one setting of the params
// that are not plotted, the metric's mean and standard deviation (0:
// none) at each value X of the swept param, and each variant's own value
// (PX, PY).
type SweepSeries struct {
	Name        string
	X, Mean, SD []float64
	PX, PY      []float64
	XLabels     []string // tick labels at X = 0, 1, ... for a param whose values are not numbers
	Selected    bool     // drawn thicker: the series of the best group
}

// Sweep plots a metric against a swept param: each series' means joined
// by a line with ±1 sd error bars, and every variant's value as a dot.
// Each series needs len(X) == len(Mean) == len(SD) > 0 and len(PX) ==
// len(PY). logX puts X on a log scale (all X must then be positive).
func Sweep(path, title, xLabel, yLabel string, series []SweepSeries, logX bool) error {
	if len(series) == 0 {
		return errors.New("plots: Sweep: no series")
	}
	p := newPlot(title, xLabel, yLabel)
	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	var entries []legendEntry
	for i, s := range series {
		if len(s.X) == 0 || len(s.Mean) != len(s.X) || len(s.SD) != len(s.X) || len(s.PX) != len(s.PY) {
			return fmt.Errorf("plots: Sweep: series %q: inconsistent lengths", s.Name)
		}
		col := Palette[i%len(Palette)]
		xys, errs := make(plotter.XYs, len(s.X)), make(plotter.YErrors, len(s.X))
		for j := range s.X {
			if logX && s.X[j] <= 0 || math.IsNaN(s.Mean[j]) {
				return fmt.Errorf("plots: Sweep: series %q: bad point (%g, %g)", s.Name, s.X[j], s.Mean[j])
			}
			xys[j] = plotter.XY{X: s.X[j], Y: s.Mean[j]}
			errs[j].Low, errs[j].High = s.SD[j], s.SD[j]
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("plots: Sweep: %w", err)
		}
		l.Color, pts.Color = col, col
		l.Width = vg.Points(1.5)
		if s.Selected {
			l.Width = vg.Points(3)
		}
		pts.Shape, pts.Radius = draw.CircleGlyph{}, vg.Points(3)
		bars, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{xys, errs})
		if err != nil {
			return fmt.Errorf("plots: Sweep: %w", err)
		}
		bars.Color = col
		p.Add(l, pts, bars)
		if len(s.PX) > 0 {
			dots := make(plotter.XYs, len(s.PX))
			for j := range s.PX {
				dots[j] = plotter.XY{X: s.PX[j], Y: s.PY[j]}
			}
			sc, err := plotter.NewScatter(dots)
			if err != nil {
				return fmt.Errorf("plots: Sweep: %w", err)
			}
			sc.Color, sc.Shape, sc.Radius = col, draw.RingGlyph{}, vg.Points(2)
			p.Add(sc)
		}
		if s.XLabels != nil {
			var ticks []plot.Tick
			for j, lab := range s.XLabels {
				ticks = append(ticks, plot.Tick{Value: float64(j), Label: lab})
			}
			p.X.Tick.Marker = plot.ConstantTicks(ticks)
			p.X.Min, p.X.Max = -0.5, float64(len(s.XLabels))-0.5
		}
		entries = append(entries, legendEntry{s.Name, []plot.Thumbnailer{l, pts}})
	}
	if len(series) == 1 && series[0].Name == "" {
		entries = nil
	}
	return save(path, p, entries, 8*vg.Inch, 5*vg.Inch)
}
