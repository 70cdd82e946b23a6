// Package docs keeps the numbers that README.md and docs/*.md quote from
// runs in step with the runs: each such number lies in a marked block,
//
//	<!-- docs:NAME -->
//	…
//	<!-- /docs:NAME -->
//
// whose text is rendered from files that `make docs` records in
// docs/generated/ from the documented commands' output. Write rewrites the
// blocks from those files; Check says which block differs from them (a
// number edited by hand, or files recorded anew without the pages being
// rewritten). That the recorded files still match what the commands print
// is checked by a test that runs the small documented commands
// (cmd/siamese's TestDocsSmallRun).
package docs

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// GeneratedDir is where `make docs` records the runs' output, relative to
// the repository's root.
const GeneratedDir = "docs/generated"

// The recorded files, in GeneratedDir.
const (
	MetricsFile  = "metrics.json"  // evaluate/metrics.json of the full default run
	BuildFile    = "build.txt"     // which build made it: "pure-Go build" or "OpenBLAS build"
	SmallRunFile = "small-run.txt" // the small run's command and the last line it printed
	ScoreFile    = "score.txt"     // siamese score's command and its table, on the small run's model
	DagFile      = "dag.txt"       // siamese dag's STAGE and DEPS columns
	// BenchScaleFile is make bench's table of the rows on scale: the whole
	// pipeline against its train stage, larger per_class with the
	// notebook's arrays on and off, a folder ingested again.
	BenchScaleFile = "bench-scale.md"
	// QualitySeedsFile is bench/quality.py's table of the quality recipe's
	// scores, wall and peak RSS, one run per seed.
	QualitySeedsFile = "quality-seeds.md"
)

// Small-run commands, as the pages quote them. The test that reruns them
// reads them from here.
var (
	SmallRunArgs = []string{"run", "--artifacts", "/tmp/small", "--set", "triplets.per_class=100", "--set", "train.epochs=3"}
	ScoreArgs    = []string{"--artifacts", "/tmp/small", "score", "--model", "latest", "batch.npy"}
	// ScoreRows are the rows of the small run's ingest/images.npy that
	// batch.npy holds: the first three Fashion-MNIST test images.
	ScoreRows = []int{60000, 60001, 60002}
)

// Pages are the pages that may hold blocks, relative to the root.
func Pages(root string) ([]string, error) {
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		return nil, err
	}
	return append([]string{filepath.Join(root, "README.md")}, pages...), nil
}

var marker = regexp.MustCompile(`(?m)^<!-- (/?)docs:([a-z0-9-]+) -->$`)

// block is one marked block of a page: its name and where its text lies.
type block struct {
	name       string
	start, end int // the text between the markers' lines: text[start:end]
}

// blocks finds the marked blocks of text: each opened and closed once,
// not nested.
func blocks(text string) ([]block, error) {
	var out []block
	var open *block
	for _, m := range marker.FindAllStringSubmatchIndex(text, -1) {
		closing, name := text[m[2]:m[3]] == "/", text[m[4]:m[5]]
		line := strings.Count(text[:m[0]], "\n") + 1
		switch {
		case !closing && open != nil:
			return nil, fmt.Errorf("line %d: block %q opens inside block %q", line, name, open.name)
		case !closing:
			open = &block{name: name, start: m[1] + 1}
		case open == nil || open.name != name:
			return nil, fmt.Errorf("line %d: block %q closes, but it is not open", line, name)
		default:
			open.end = m[0]
			if open.start > open.end { // <!-- docs:x --><!-- /docs:x --> on adjacent lines
				open.end = open.start
			}
			out = append(out, *open)
			open = nil
		}
	}
	if open != nil {
		return nil, fmt.Errorf("block %q is never closed", open.name)
	}
	return out, nil
}

// Check compares every block of the pages under root with its rendering
// from the files in root's GeneratedDir, and returns an error naming each
// that differs.
func Check(root string) error {
	return visit(root, func(page, name, got, want string) error {
		if got != want {
			return fmt.Errorf("%s: block %s differs from what `make docs` recorded in %s:\n--- page\n%s--- recorded\n%s",
				page, name, GeneratedDir, got, want)
		}
		return nil
	}, false)
}

// Write rewrites every block of the pages under root from the files in
// root's GeneratedDir.
func Write(root string) error {
	return visit(root, func(string, string, string, string) error { return nil }, true)
}

// visit renders every block of every page and calls f with the page's
// text of it and the rendering; with rewrite, it writes the pages with the
// renderings in place.
func visit(root string, f func(page, name, got, want string) error, rewrite bool) error {
	pages, err := Pages(root)
	if err != nil {
		return err
	}
	var errs []error
	for _, page := range pages {
		data, err := os.ReadFile(page)
		if err != nil {
			return err
		}
		text := string(data)
		bs, err := blocks(text)
		if err != nil {
			return fmt.Errorf("%s: %w", page, err)
		}
		var b strings.Builder
		last := 0
		for _, bl := range bs {
			want, err := Render(bl.name, filepath.Join(root, GeneratedDir))
			if err != nil {
				return fmt.Errorf("%s: %w", page, err)
			}
			if err := f(page, bl.name, text[bl.start:bl.end], want); err != nil {
				errs = append(errs, err)
			}
			b.WriteString(text[last:bl.start])
			b.WriteString(want)
			last = bl.end
		}
		b.WriteString(text[last:])
		if rewrite && b.String() != text {
			if err := os.WriteFile(page, []byte(b.String()), 0o644); err != nil {
				return err
			}
		}
	}
	return errors.Join(errs...)
}

// Render returns the text of the block name, from the files in dir.
func Render(name, dir string) (string, error) {
	read := func(file string) (string, error) {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return "", fmt.Errorf("block %s: %w (run `make docs`)", name, err)
		}
		return string(data), nil
	}
	switch name {
	case "headline", "metrics":
		data, err := read(MetricsFile)
		if err != nil {
			return "", err
		}
		build, err := read(BuildFile)
		if err != nil {
			return "", err
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			return "", fmt.Errorf("block %s: %s: %w", name, MetricsFile, err)
		}
		if name == "headline" {
			return headline(m, strings.TrimSpace(build))
		}
		return metricsTable(m, strings.TrimSpace(build))
	case "bench-scale":
		return read(BenchScaleFile)
	case "quality-seeds":
		return read(QualitySeedsFile)
	case "small-run", "score", "dag":
		file := map[string]string{"small-run": SmallRunFile, "score": ScoreFile, "dag": DagFile}[name]
		text, err := read(file)
		if err != nil {
			return "", err
		}
		return "```\n" + text + "```\n", nil
	}
	return "", fmt.Errorf("unknown block %q (want headline, metrics, small-run, score, dag, bench-scale or quality-seeds)", name)
}

// Command is how a page writes the command line args, after "$ siamese".
func Command(args []string) string { return "$ siamese " + strings.Join(args, " ") }

func number(m map[string]any, key string) (float64, error) {
	v, ok := m[key].(float64)
	if !ok {
		return 0, fmt.Errorf("%s: no number %q", MetricsFile, key)
	}
	return v, nil
}

func headline(m map[string]any, build string) (string, error) {
	var vs [4]float64
	for i, k := range []string{"roc_auc", "binary_accuracy", "knn_accuracy_k5", "anomaly_auroc_mean_embedding"} {
		v, err := number(m, k)
		if err != nil {
			return "", err
		}
		vs[i] = v
	}
	return fmt.Sprintf("roc_auc **%.4f**, binary_accuracy **%.4f**, kNN accuracy (k = 5) on never-trained images "+
		"**%.4f**, mean per-class anomaly AUROC **%.4f** (`make run`, %s).\n", vs[0], vs[1], vs[2], vs[3], build), nil
}

// tableOrder is the metrics table's rows: the headline metrics first.
var tableOrder = []string{"binary_accuracy", "roc_auc", "pr_auc", "best_accuracy", "best_threshold",
	"knn_accuracy_k1", "knn_accuracy_k5", "precision_at_1", "map_at_r",
	"anomaly_auroc_mean_embedding", "anomaly_auroc_mean_image", "test_triplets", "reference_images", "query_images"}

func metricsTable(m map[string]any, build string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "| metric | value (%s) |\n|---|---|\n", build)
	for _, k := range tableOrder {
		v, err := number(m, k)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "| `%s` | %s |\n", k, format(v))
	}
	var rest []string
	for k, v := range m {
		if _, ok := v.(float64); ok && !slices.Contains(tableOrder, k) {
			rest = append(rest, k)
		}
	}
	if len(rest) > 0 {
		return "", fmt.Errorf("%s: metrics %v are not in the table's order: add them to tableOrder", MetricsFile, rest)
	}
	return b.String(), nil
}

// format writes counts as integers and the rest to four decimals.
func format(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.4f", v)
}
