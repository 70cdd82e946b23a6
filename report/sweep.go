package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"time"

	"github.com/siamese-pipeline/siamese/internal/atomicfile"
)

// Sweep is what a sweep's page shows: the table of its variants and of
// their groups (over seeds), the best group marked, and a plot of the
// metric against the swept value.
type Sweep struct {
	Name    string
	Summary string // a line: how many variants are done, how the best is chosen
	// The variants' and the groups' tables: a header and rows of cells.
	VariantHead []string
	Variants    [][]string
	GroupHead   []string
	Groups      [][]string
	Best        int    // the best group's row, or -1
	Plot        *Image // nil: none
}

//go:embed sweep.html.tmpl
var sweepSource string

var sweepPage = template.Must(template.New("sweep").Parse(sweepSource))

type sweepView struct {
	Sweep
	Images    []imageView
	Notes     []string
	Generated string
}

// WriteSweep renders a sweep's page to path (a temporary file renamed
// into place). Like a run's report it loads nothing: the plot is a data:
// URI.
func WriteSweep(path string, s Sweep) error {
	v := sweepView{Sweep: s, Generated: time.Now().UTC().Format("2006-01-02 15:04:05 UTC")}
	if s.Plot != nil {
		v.Images, v.Notes = images([]Image{*s.Plot})
	}
	var buf bytes.Buffer
	if err := sweepPage.Execute(&buf, v); err != nil {
		return fmt.Errorf("report: sweep %s: %w", s.Name, err)
	}
	if err := atomicfile.WriteFile(path, buf.Bytes()); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
