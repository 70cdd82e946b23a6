package sweep

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/siamese-pipeline/siamese/plots"
)

// Plot draws the table's metric By against its first swept param that is
// not a seed (else its first swept param): one line per setting of the
// other params, through the groups' means with ±1 sd bars, and a dot per
// finished variant. It returns false, writing nothing, where no group
// has the metric.
func (t *Table) Plot(path string) (bool, error) {
	if len(t.Params) == 0 {
		return false, nil
	}
	x := t.Params[0]
	for _, p := range t.Params {
		if !IsSeed(p) {
			x = p
			break
		}
	}
	// The x values, in the order of first appearance; numbers where all are.
	var values []string
	for _, r := range t.Variants {
		if v := r.Params[x]; !slices.Contains(values, v) {
			values = append(values, v)
		}
	}
	pos := map[string]float64{}
	numeric := true
	for _, v := range values {
		f, err := strconv.ParseFloat(v, 64)
		numeric = numeric && err == nil
		pos[v] = f
	}
	var labels []string
	if !numeric {
		labels = values
		for i, v := range values {
			pos[v] = float64(i)
		}
	}
	// One series per setting of the other params that are not seeds.
	others := func(params map[string]string) string {
		var parts []string
		for _, p := range t.Params {
			if p != x && !IsSeed(p) {
				parts = append(parts, p+"="+params[p])
			}
		}
		return strings.Join(parts, " ")
	}
	var series []plots.SweepSeries
	index := map[string]int{}
	for _, g := range t.Groups {
		mean, ok := g.Mean[t.By]
		if !ok {
			continue
		}
		key := others(g.Params)
		if g.Params[x] == "" { // x is a seed: the group spans it
			key = ""
		}
		i, seen := index[key]
		if !seen {
			i = len(series)
			index[key] = i
			series = append(series, plots.SweepSeries{Name: key, XLabels: labels})
		}
		s := &series[i]
		s.Selected = s.Selected || g.Best
		if g.Params[x] != "" {
			s.X, s.Mean, s.SD = append(s.X, pos[g.Params[x]]), append(s.Mean, mean), append(s.SD, g.SD[t.By])
		}
		for _, id := range g.Variants {
			for _, r := range t.Variants {
				if v, ok := r.Metrics[t.By]; r.ID == id && ok && r.Status == Done {
					s.PX, s.PY = append(s.PX, pos[r.Params[x]]), append(s.PY, v)
				}
			}
		}
	}
	if len(series) == 0 {
		return false, nil
	}
	for i := range series {
		if len(series[i].X) == 0 { // x is a seed: plot each variant alone
			series[i].X, series[i].Mean, series[i].SD = series[i].PX, series[i].PY, make([]float64, len(series[i].PX))
		}
	}
	title := fmt.Sprintf("Sweep %s: %s against %s", t.Name, t.By, x)
	if err := plots.Sweep(path, title, x, t.By, series, false); err != nil {
		return false, err
	}
	return true, nil
}
