package sweep

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Goals: whether the best group has the lowest or the highest mean.
const (
	Min = "min"
	Max = "max"
)

// Table is a sweep's variants and their groups: the variants that differ
// only by seed form a group, summarised by the mean, standard deviation
// and number of its finished variants' values of each metric.
type Table struct {
	Name string `json:"name"`
	By   string `json:"by"`   // the metric the best group is chosen by
	Goal string `json:"goal"` // Min or Max
	// Params are the swept params (the axes with more than one value),
	// in the axes' order; Metrics every metric a variant has, By first.
	Params   []string `json:"params"`
	Metrics  []string `json:"metrics"`
	Variants []Row    `json:"variants"`
	Groups   []Group  `json:"groups"`
}

// Row is a variant in a Table.
type Row struct {
	ID      string             `json:"id"`
	Status  string             `json:"status"`
	Run     string             `json:"run,omitempty"`
	Params  map[string]string  `json:"params"` // swept param → value as written
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// Group is the variants with the same values of the swept params that are
// not seeds.
type Group struct {
	Params   map[string]string `json:"params"` // the non-seed swept params
	Variants []string          `json:"variants"`
	// N is how many of them are done; Mean and SD (the sample standard
	// deviation, absent for N < 2) are over those.
	N    int                `json:"n"`
	Mean map[string]float64 `json:"mean,omitempty"`
	SD   map[string]float64 `json:"sd,omitempty"`
	Best bool               `json:"best,omitempty"`
}

// GoalOf is the goal a metric's name implies: Min for losses and errors,
// Max for the rest.
func GoalOf(metric string) string {
	n := strings.ToLower(metric)
	if strings.Contains(n, "loss") || strings.Contains(n, "error") || strings.Contains(n, "eer") {
		return Min
	}
	return Max
}

// NewTable tabulates a sweep's state, choosing the best group by the
// metric by with goal (Min or Max; "" takes GoalOf(by)).
func NewTable(st *State, by, goal string) (*Table, error) {
	if goal == "" {
		goal = GoalOf(by)
	}
	if goal != Min && goal != Max {
		return nil, fmt.Errorf("goal %q: want %s or %s", goal, Min, Max)
	}
	t := &Table{Name: st.Name, By: by, Goal: goal}
	for _, a := range st.Axes {
		if len(a.Values) > 1 {
			t.Params = append(t.Params, a.Param)
		}
	}
	metrics := map[string]bool{}
	byKey := map[string]int{}
	for _, v := range st.Variants {
		row := Row{ID: v.ID, Status: v.Status, Run: v.Run, Params: map[string]string{}, Metrics: v.Metrics}
		var key []string
		group := map[string]string{}
		for _, p := range t.Params {
			row.Params[p] = v.Value(p)
			if !IsSeed(p) {
				group[p] = v.Value(p)
				key = append(key, p+"="+v.Value(p))
			}
		}
		for m := range v.Metrics {
			metrics[m] = true
		}
		t.Variants = append(t.Variants, row)
		k := strings.Join(key, "\n")
		i, ok := byKey[k]
		if !ok {
			i = len(t.Groups)
			byKey[k] = i
			t.Groups = append(t.Groups, Group{Params: group})
		}
		t.Groups[i].Variants = append(t.Groups[i].Variants, v.ID)
	}
	delete(metrics, by)
	t.Metrics = append([]string{by}, slices.Sorted(maps.Keys(metrics))...)
	rows := map[string]Row{}
	for _, r := range t.Variants {
		rows[r.ID] = r
	}
	best := -1
	for i := range t.Groups {
		g := &t.Groups[i]
		for _, id := range g.Variants {
			if rows[id].Status == Done {
				g.N++
			}
		}
		for _, m := range t.Metrics {
			var xs []float64
			for _, id := range g.Variants {
				if x, ok := rows[id].Metrics[m]; ok && rows[id].Status == Done {
					xs = append(xs, x)
				}
			}
			if len(xs) == 0 {
				continue
			}
			mean, sd := meanSD(xs)
			if g.Mean == nil {
				g.Mean = map[string]float64{}
			}
			g.Mean[m] = mean
			if len(xs) > 1 {
				if g.SD == nil {
					g.SD = map[string]float64{}
				}
				g.SD[m] = sd
			}
		}
		x, ok := g.Mean[by]
		if !ok {
			continue
		}
		if best < 0 || goal == Min && x < t.Groups[best].Mean[by] || goal == Max && x > t.Groups[best].Mean[by] {
			best = i
		}
	}
	if best >= 0 {
		t.Groups[best].Best = true
	}
	return t, nil
}

// meanSD returns the mean and the sample standard deviation of xs.
func meanSD(xs []float64) (float64, float64) {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

// BestGroup returns the best group, or nil if no group has the metric.
func (t *Table) BestGroup() *Group {
	for i := range t.Groups {
		if t.Groups[i].Best {
			return &t.Groups[i]
		}
	}
	return nil
}

// BestVariant returns the done variant of the best group with the best
// value of the table's metric, or nil.
func (t *Table) BestVariant() *Row {
	g := t.BestGroup()
	if g == nil {
		return nil
	}
	var best *Row
	for i := range t.Variants {
		r := &t.Variants[i]
		x, ok := r.Metrics[t.By]
		if !ok || r.Status != Done || !slices.Contains(g.Variants, r.ID) {
			continue
		}
		if b := best; b == nil || t.Goal == Min && x < b.Metrics[t.By] || t.Goal == Max && x > b.Metrics[t.By] {
			best = r
		}
	}
	return best
}

// Grid is a table as rows of text cells, as WriteText and the report
// show it: the variants, and the groups (mean ± sd, n) with the best
// group's index (-1: none).
type Grid struct {
	VariantHead []string
	Variants    [][]string
	GroupHead   []string
	Groups      [][]string
	Best        int
}

// Cells lays the table out as text: the variants' and groups' params and
// the metrics named in cols that the table has (By always, first).
func (t *Table) Cells(cols []string) Grid {
	show := []string{t.By}
	for _, c := range cols {
		if c != t.By && slices.Contains(t.Metrics, c) {
			show = append(show, c)
		}
	}
	g := Grid{Best: -1, VariantHead: []string{"variant", "status"}, GroupHead: []string{"best"}}
	g.VariantHead = append(append(g.VariantHead, t.Params...), show...)
	g.VariantHead = append(g.VariantHead, "run")
	for _, p := range t.Params {
		if !IsSeed(p) {
			g.GroupHead = append(g.GroupHead, p)
		}
	}
	g.GroupHead = append(g.GroupHead, "n")
	for _, m := range show {
		g.GroupHead = append(g.GroupHead, m+" (mean ± sd)")
	}
	for _, r := range t.Variants {
		row := []string{r.ID, r.Status}
		for _, p := range t.Params {
			row = append(row, r.Params[p])
		}
		for _, m := range show {
			row = append(row, fmtValue(r.Metrics, m))
		}
		g.Variants = append(g.Variants, append(row, orDash(r.Run)))
	}
	for i, gr := range t.Groups {
		mark := ""
		if gr.Best {
			mark, g.Best = "*", i
		}
		row := []string{mark}
		for _, p := range t.Params {
			if !IsSeed(p) {
				row = append(row, gr.Params[p])
			}
		}
		row = append(row, strconv.Itoa(gr.N))
		for _, m := range show {
			cell := fmtValue(gr.Mean, m)
			if sd, ok := gr.SD[m]; ok {
				cell += " ± " + fmtShort(sd)
			}
			row = append(row, cell)
		}
		g.Groups = append(g.Groups, row)
	}
	return g
}

// Summary says in a line how many variants are done and how the best
// group is chosen.
func (t *Table) Summary() string {
	better := "lower"
	if t.Goal == Max {
		better = "higher"
	}
	done := 0
	for _, r := range t.Variants {
		if r.Status == Done {
			done++
		}
	}
	return fmt.Sprintf("sweep %s: %d variants, %d done; best group by %s (%s is better) marked *", t.Name, len(t.Variants), done, t.By, better)
}

// WriteText writes the table for a terminal: the variants, then the
// groups with mean ± sd and n, the best marked with '*'. It shows the
// metrics named in cols that the table has (By always, first).
func (t *Table) WriteText(w io.Writer, cols []string) error {
	g := t.Cells(cols)
	fmt.Fprintf(w, "%s\n\n", t.Summary())
	for i, part := range [][][]string{append([][]string{g.VariantHead}, g.Variants...), append([][]string{g.GroupHead}, g.Groups...)} {
		if i > 0 {
			fmt.Fprintln(w)
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for j, row := range part {
			if j == 0 {
				row = upper(row)
			}
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// upper upper-cases the plain headings (not the params and metrics).
func upper(head []string) []string {
	out := make([]string, len(head))
	for i, h := range head {
		out[i] = h
		if !strings.ContainsAny(h, "._") && !strings.Contains(h, "(") {
			out[i] = strings.ToUpper(h)
		}
	}
	return out
}

func fmtValue(m map[string]float64, k string) string {
	v, ok := m[k]
	if !ok {
		return "-"
	}
	return fmtShort(v)
}

func fmtShort(v float64) string { return strconv.FormatFloat(v, 'g', 5, 64) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteJSON writes the whole table as JSON.
func (t *Table) WriteJSON(w io.Writer) error {
	data, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// ReadJSON reads what WriteJSON writes.
func ReadJSON(r io.Reader) (*Table, error) {
	var t Table
	if err := json.NewDecoder(r).Decode(&t); err != nil {
		return nil, fmt.Errorf("sweep table: %w", err)
	}
	return &t, nil
}

// The CSV's columns before the params and the metrics.
var csvFixed = []string{"kind", "id", "status", "run", "n", "best", "variants"}

// WriteCSV writes one row per variant (kind "variant") and one per group
// (kind "group"): the fixed columns, each swept param, then each metric
// and its standard deviation (<metric>_sd, groups only). Numbers are
// written exactly (shortest round-tripping form); an empty cell is a
// missing value. Name, By and Goal are not in the CSV.
func (t *Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := append([]string{}, csvFixed...)
	head = append(head, t.Params...)
	for _, m := range t.Metrics {
		head = append(head, m, m+"_sd")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	num := func(m map[string]float64, k string) string {
		if v, ok := m[k]; ok {
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
		return ""
	}
	for _, r := range t.Variants {
		rec := []string{"variant", r.ID, r.Status, r.Run, "", "", ""}
		for _, p := range t.Params {
			rec = append(rec, r.Params[p])
		}
		for _, m := range t.Metrics {
			rec = append(rec, num(r.Metrics, m), "")
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	for _, g := range t.Groups {
		rec := []string{"group", "", "", "", strconv.Itoa(g.N), strconv.FormatBool(g.Best), strings.Join(g.Variants, " ")}
		for _, p := range t.Params {
			rec = append(rec, g.Params[p])
		}
		for _, m := range t.Metrics {
			rec = append(rec, num(g.Mean, m), num(g.SD, m))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadCSV reads what WriteCSV writes: the table's params, metrics,
// variants and groups.
func ReadCSV(r io.Reader) (*Table, error) {
	recs, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("sweep table: %w", err)
	}
	if len(recs) == 0 || len(recs[0]) < len(csvFixed) || !slices.Equal(recs[0][:len(csvFixed)], csvFixed) {
		return nil, fmt.Errorf("sweep table: the header is not a sweep table's")
	}
	head := recs[0]
	t := &Table{}
	i := len(csvFixed)
	for ; i < len(head) && !(i+1 < len(head) && head[i+1] == head[i]+"_sd"); i++ {
		t.Params = append(t.Params, head[i])
	}
	for ; i+1 < len(head); i += 2 {
		t.Metrics = append(t.Metrics, head[i])
	}
	if i != len(head) {
		return nil, fmt.Errorf("sweep table: a metric column lacks its _sd column")
	}
	np := len(csvFixed) + len(t.Params)
	nums := func(rec []string, sd bool) (map[string]float64, error) {
		var out map[string]float64
		for j, m := range t.Metrics {
			cell := rec[np+2*j]
			if sd {
				cell = rec[np+2*j+1]
			}
			if cell == "" {
				continue
			}
			v, err := strconv.ParseFloat(cell, 64)
			if err != nil {
				return nil, fmt.Errorf("sweep table: %s: %w", m, err)
			}
			if out == nil {
				out = map[string]float64{}
			}
			out[m] = v
		}
		return out, nil
	}
	for _, rec := range recs[1:] {
		params := map[string]string{}
		for j, p := range t.Params {
			params[p] = rec[len(csvFixed)+j]
		}
		mean, err := nums(rec, false)
		if err != nil {
			return nil, err
		}
		switch rec[0] {
		case "variant":
			t.Variants = append(t.Variants, Row{ID: rec[1], Status: rec[2], Run: rec[3], Params: params, Metrics: mean})
		case "group":
			n, err := strconv.Atoi(rec[4])
			if err != nil {
				return nil, fmt.Errorf("sweep table: n: %w", err)
			}
			sd, err := nums(rec, true)
			if err != nil {
				return nil, err
			}
			for _, p := range t.Params {
				if IsSeed(p) {
					delete(params, p)
				}
			}
			t.Groups = append(t.Groups, Group{Params: params, Variants: strings.Fields(rec[6]), N: n,
				Mean: mean, SD: sd, Best: rec[5] == "true"})
		default:
			return nil, fmt.Errorf("sweep table: row kind %q", rec[0])
		}
	}
	return t, nil
}
