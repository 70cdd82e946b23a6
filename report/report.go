// Package report writes a self-contained HTML report of one pipeline run:
// outcome, metrics against the previous run, quality gate, stage timings,
// per-class anomaly AUROC, plots, params and what changed. The page loads
// nothing: the CSS is inline, the images are data: URIs, and a Content
// Security Policy forbids any other load.
package report

import (
	"bytes"
	"cmp"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"maps"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/siamese-pipeline/siamese/history"
	"github.com/siamese-pipeline/siamese/internal/atomicfile"
)

// Image is a PNG file to show in the report.
type Image struct{ Title, Path string }

// Input is what a report shows.
type Input struct {
	Run      *history.Run
	Previous *history.Run // the run to compare with: the last one before Run with metrics (may be nil)
	Model    *Model       // what became of the run's model (nil: the pipeline makes none to serve)
	Trend    *Image       // the gate's metrics over the last runs of the same data (may be nil)
	Images   []Image      // a missing or unreadable file is skipped with a note
	Metrics  map[string]any
	// Metrics is the full metrics.json; its "per_class" list of objects
	// (with "class", "name" and numeric fields) becomes a table. May be nil.
}

// Model is what became of a run's model: promoted or why not, and which
// model is current (what `siamese score` uses).
type Model struct {
	Promoted        bool
	Why             string    // why it was not promoted
	Current         string    // the run whose model is current; "" when none is
	CurrentPromoted time.Time // when that model was promoted
}

//go:embed report.html.tmpl
var pageSource string

var page = template.Must(template.New("report").Parse(pageSource))

// Write renders the report to path (a temporary file renamed into place),
// creating path's directory if needed.
func Write(path string, in Input) error {
	if in.Run == nil {
		return fmt.Errorf("report: no run")
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, build(in)); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := atomicfile.WriteFile(path, buf.Bytes()); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// view is what the template renders.
type view struct {
	Run, Prev      *history.Run
	OutcomeClass   string
	PrevOutcomeCls string
	Start, End     string
	Duration       string
	Metrics        []metricRow
	GatePassed     int
	Gate           []history.Check
	Stages         []stageRow
	StageSeconds   string
	PerClass       *perClassTable
	Trained        *trained
	Images         []imageView
	Notes          []string
	Model          *modelView
	Trend          *imageView
	Params         []paramGroup
	Changes        []history.Change
	Generated      string
}

type metricRow struct {
	Name, ID           string
	Value, Prev, Delta string
	Raw                string // the value as %g, for data-value
	Class              string // "better", "worse", "same", "neutral" or ""
	Arrow              string
	Missing            bool // only the previous run has it
}

type stageRow struct {
	history.Stage
	Secs  string
	Bar   float64 // percentage of the slowest stage
	Class string
}

type perClassTable struct {
	Fields []string
	Labels []string // the fields as column headings
	Rows   []perClassRow
}

type perClassRow struct {
	Class, Name string
	Key         string // for element ids
	Cells       []perClassCell
}

type perClassCell struct {
	Field, Value, ID, Class string
}

type modelView struct {
	Model
	Promoted string // when, formatted
	This     bool   // the current model is this run's
}

type imageView struct {
	Title string
	Src   template.URL
}

type paramGroup struct {
	Stage  string
	Params []paramRow
}

type paramRow struct {
	Name, Value, Old string
	Changed          bool
}

// metricOrder puts the headline metrics first; the rest follow by name.
var metricOrder = []string{"roc_auc", "pr_auc", "binary_accuracy", "best_accuracy", "best_threshold",
	"knn_accuracy_k1", "knn_accuracy_k5", "precision_at_1", "map_at_r",
	"anomaly_auroc_mean_embedding", "anomaly_auroc_mean_image"}

// direction says whether a larger value of the metric is better (1), worse
// (-1), or neither (0).
func direction(name string) int {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "threshold"), strings.HasPrefix(n, "n_"), strings.HasSuffix(n, "_count"),
		strings.HasSuffix(n, "_triplets"), strings.HasSuffix(n, "_images"), strings.HasSuffix(n, "_pairs"),
		strings.HasSuffix(n, "_rows"), strings.HasSuffix(n, "_epoch"), strings.HasSuffix(n, "epochs_run"):
		return 0
	case strings.Contains(n, "loss"), strings.Contains(n, "error"), strings.Contains(n, "seconds"),
		strings.Contains(n, "time"), strings.Contains(n, "eer"):
		return -1
	}
	return 1
}

func fmtNum(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "−Inf"
	}
	if isWhole(v) { // a count: 10000, not 1e+04
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return history.FormatMetric(v)
}

func isWhole(v float64) bool { return v == math.Trunc(v) && math.Abs(v) < 1e15 }

// fmtDelta writes a change with its sign, whole changes as integers.
func fmtDelta(d float64) string {
	if isWhole(d) {
		s := strconv.FormatFloat(d, 'f', 0, 64)
		if d > 0 {
			s = "+" + s
		}
		return s
	}
	return history.FormatDelta(d)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "—"
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
}

func outcomeClass(o string) string {
	switch o {
	case history.OK, "ran", "cached":
		return "ok"
	case history.GateFailed, "cancelled", "would run":
		return "warn"
	case history.Failed:
		return "bad"
	}
	return "neutral"
}

// idPart makes s safe in an element id: letters, digits, '-' and '_'.
func idPart(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, s)
}

func build(in Input) *view {
	r, p := in.Run, in.Previous
	v := &view{Run: r, Prev: p, OutcomeClass: outcomeClass(r.Outcome),
		Start: fmtTime(r.Start), End: fmtTime(r.End), Duration: fmtDuration(r.End.Sub(r.Start)),
		Generated: time.Now().UTC().Format("2006-01-02 15:04:05 UTC"), GatePassed: -1, Gate: r.Gate}
	if r.Start.IsZero() || r.End.IsZero() {
		v.Duration = "—"
	}
	if p != nil {
		v.PrevOutcomeCls = outcomeClass(p.Outcome)
	}
	v.Metrics = metricRows(r, p)
	if len(r.Gate) > 0 {
		v.GatePassed = 1
		for _, c := range r.Gate {
			if !c.Pass {
				v.GatePassed = 0
			}
		}
	}
	v.Stages, v.StageSeconds = stageRows(r.Stages)
	v.PerClass = perClass(in.Metrics)
	v.Trained = trainedBy(in.Metrics)
	v.Images, v.Notes = images(in.Images)
	if in.Trend != nil {
		trend, notes := images([]Image{*in.Trend})
		if len(trend) == 1 {
			v.Trend = &trend[0]
		}
		v.Notes = append(v.Notes, notes...)
	}
	if m := in.Model; m != nil {
		v.Model = &modelView{Model: *m, Promoted: fmtTime(m.CurrentPromoted), This: m.Current == r.ID}
	}
	v.Params = params(r, p)
	if p != nil {
		v.Changes = history.Diff(p, r)
	}
	return v
}

func metricRows(r, p *history.Run) []metricRow {
	names := map[string]bool{}
	for k := range r.Metrics {
		names[k] = true
	}
	if p != nil {
		for k := range p.Metrics {
			names[k] = true
		}
	}
	// The headline metrics, then the others by name, then the counts.
	rank := func(k string) int {
		if i := slices.Index(metricOrder, k); i >= 0 {
			return i
		}
		if direction(k) == 0 {
			return len(metricOrder) + 1
		}
		return len(metricOrder)
	}
	order := slices.SortedFunc(maps.Keys(names), func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b))
	})
	var rows []metricRow
	for _, k := range order {
		row := metricRow{Name: k, ID: idPart(k), Value: "—", Prev: "—", Delta: "—"}
		cur, hasCur := r.Metrics[k]
		if hasCur {
			row.Value, row.Raw = fmtNum(cur), fmt.Sprint(cur)
		} else {
			row.Missing = true
		}
		if p != nil {
			if old, ok := p.Metrics[k]; ok {
				row.Prev = fmtNum(old)
				if d := cur - old; hasCur && !math.IsNaN(d) && !math.IsInf(d, 0) {
					row.Delta = fmtDelta(d)
					switch {
					case d > 0:
						row.Arrow = "▲"
					case d < 0:
						row.Arrow = "▼"
					default:
						row.Delta, row.Arrow = "±0", "="
					}
					switch direction(k) * cmp.Compare(d, 0) {
					case 1:
						row.Class = "better"
					case -1:
						row.Class = "worse"
					case 0:
						row.Class = "neutral" // a count, a threshold: neither better nor worse
					}
					if d == 0 {
						row.Class = "same"
					}
				}
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func stageRows(stages []history.Stage) ([]stageRow, string) {
	var most, total float64
	for _, s := range stages {
		most = max(most, s.Seconds)
		total += s.Seconds
	}
	rows := make([]stageRow, len(stages))
	for i, s := range stages {
		rows[i] = stageRow{Stage: s, Secs: fmt.Sprintf("%.2f", s.Seconds), Class: outcomeClass(s.Outcome)}
		if s.Outcome == "cached" || s.Outcome == "not selected" {
			rows[i].Class = "neutral"
		}
		if most > 0 {
			rows[i].Bar = math.Round(1000*s.Seconds/most) / 10
		}
	}
	return rows, fmt.Sprintf("%.2f", total)
}

// perClass reads metrics["per_class"]: a list of objects with "class",
// "name" and numeric fields.
func perClass(m map[string]any) *perClassTable {
	list, _ := m["per_class"].([]any)
	if len(list) == 0 {
		return nil
	}
	fields := map[string]bool{}
	for _, item := range list {
		obj, _ := item.(map[string]any)
		for k, v := range obj {
			if _, ok := v.(float64); ok && k != "class" {
				fields[k] = true
			}
		}
	}
	names := slices.SortedFunc(maps.Keys(fields), func(a, b string) int {
		// AUROC-like fields first.
		if ia, ib := isAUC(a), isAUC(b); ia != ib {
			if ia {
				return -1
			}
			return 1
		}
		return cmp.Compare(a, b)
	})
	t := &perClassTable{Fields: names}
	for _, f := range names {
		t.Labels = append(t.Labels, fieldLabel(f))
	}
	for i, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			continue
		}
		row := perClassRow{Class: scalar(obj["class"]), Name: scalar(obj["name"])}
		row.Key = idPart(row.Class)
		if row.Class == "" {
			row.Key = fmt.Sprint(i)
		}
		for _, f := range names {
			c := perClassCell{Field: f, Value: "—", ID: "per-class-" + row.Key + "-" + idPart(f)}
			if x, ok := obj[f].(float64); ok {
				c.Value = fmtNum(x)
				if isAUC(f) && !math.IsNaN(x) {
					c.Class = heat(x)
				}
			}
			row.Cells = append(row.Cells, c)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// fieldLabel makes a per-class field a column heading:
// "anomaly_auroc_mean_embedding" → "AUROC, mean embedding".
func fieldLabel(f string) string {
	s := strings.ReplaceAll(f, "_", " ")
	s = strings.TrimPrefix(s, "anomaly ")
	for _, w := range []string{"auroc", "auc"} {
		if rest, ok := strings.CutPrefix(s, w+" "); ok {
			return strings.ToUpper(w) + ", " + rest
		}
		if s == w {
			return strings.ToUpper(w)
		}
	}
	return s
}

func isAUC(field string) bool {
	f := strings.ToLower(field)
	return strings.Contains(f, "auc") || strings.Contains(f, "auroc")
}

// heat grades an AUROC for colour: ≥ 0.95 good, ≥ 0.85 fair, else poor.
func heat(x float64) string {
	switch {
	case x >= 0.95:
		return "good"
	case x >= 0.85:
		return "fair"
	}
	return "poor"
}

func scalar(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case float64:
		return fmtNum(v)
	case string:
		return v
	}
	return fmt.Sprint(v)
}

func images(list []Image) ([]imageView, []string) {
	var out []imageView
	var notes []string
	for _, im := range list {
		title := cmp.Or(im.Title, filepath.Base(im.Path))
		data, err := os.ReadFile(im.Path)
		if err != nil {
			if os.IsNotExist(err) {
				notes = append(notes, fmt.Sprintf("%s: %s does not exist", title, im.Path))
			} else {
				notes = append(notes, fmt.Sprintf("%s: %v", title, err))
			}
			continue
		}
		mime := http.DetectContentType(data)
		if !strings.HasPrefix(mime, "image/") {
			notes = append(notes, fmt.Sprintf("%s: %s is not an image (%s)", title, im.Path, mime))
			continue
		}
		// The string is built here from base64 only, so it is a safe URL.
		src := template.URL("data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(data))
		out = append(out, imageView{Title: title, Src: src})
	}
	return out, notes
}

func params(r, p *history.Run) []paramGroup {
	var groups []paramGroup
	// Stages in the run's (dependency) order, then any others by name.
	order := make([]string, 0, len(r.Params))
	for _, s := range r.Stages {
		if _, ok := r.Params[s.Name]; ok {
			order = append(order, s.Name)
		}
	}
	for _, st := range slices.Sorted(maps.Keys(r.Params)) {
		if !slices.Contains(order, st) {
			order = append(order, st)
		}
	}
	for _, st := range order {
		ps := r.Params[st]
		if len(ps) == 0 {
			continue
		}
		g := paramGroup{Stage: st}
		for _, k := range slices.Sorted(maps.Keys(ps)) {
			row := paramRow{Name: k, Value: history.FormatParam(ps[k])}
			if p != nil {
				old, ok := p.Params[st][k]
				switch {
				case !ok:
					row.Changed, row.Old = true, "(not set)"
				case history.FormatParam(old) != row.Value:
					row.Changed, row.Old = true, history.FormatParam(old)
				}
			}
			g.Params = append(g.Params, row)
		}
		groups = append(groups, g)
	}
	return groups
}

// trained is how the model was trained and which images it never saw:
// metrics.json's "mining" and "held_out"; and, with validation images,
// what they are ("validation_images") and their kNN-5 accuracy.
type trained struct {
	Mining, HeldOut, Validation string
	ValKNN5                     string
}

func trainedBy(m map[string]any) *trained {
	mining, _ := m["mining"].(string)
	held, _ := m["held_out"].(string)
	if mining == "" && held == "" {
		return nil
	}
	t := &trained{Mining: mining, HeldOut: held}
	t.Validation, _ = m["validation_images"].(string)
	if v, ok := m["validation"].(map[string]any); ok {
		if k, ok := v["knn_accuracy_k5"].(float64); ok {
			t.ValKNN5 = fmt.Sprintf("%.4f", k)
		}
	}
	return t
}
