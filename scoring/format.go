package scoring

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// Formats are the output formats NewWriter accepts.
var Formats = []string{"table", "csv", "json"}

// Columns are the names of a row's fields, in every format.
var Columns = []string{"path", "class", "distance", "anomaly_score", "pass"}

// Writer writes one row per scored image.
type Writer struct {
	format  string
	classes []string
	buf     *bufio.Writer
	csv     *csv.Writer
	tab     *tabwriter.Writer
	rows    int
}

// NewWriter writes rows to w in format: "table" (aligned columns), "csv"
// (with a header line) or "json" (an array of objects). Distances and
// scores have 6 decimals in every format. Close ends the output.
func NewWriter(w io.Writer, format string, classes []string) (*Writer, error) {
	out := &Writer{format: format, classes: classes, buf: bufio.NewWriterSize(w, 1<<16)}
	switch format {
	case "table":
		out.tab = tabwriter.NewWriter(out.buf, 0, 4, 2, ' ', 0)
		fmt.Fprintln(out.tab, "PATH\tCLASS\tDISTANCE\tANOMALY_SCORE\tPASS")
	case "csv":
		out.csv = csv.NewWriter(out.buf)
		if err := out.csv.Write(Columns); err != nil {
			return nil, err
		}
	case "json":
		out.buf.WriteString("[")
	default:
		return nil, fmt.Errorf("unknown format %q (want table, csv or json)", format)
	}
	return out, nil
}

// Write writes the rows of a batch: names[i] scored res[i].
func (w *Writer) Write(names []string, res []Result) error {
	rec := make([]string, len(Columns))
	var num []byte
	for i, r := range res {
		rec[0], rec[1] = names[i], w.classes[r.Class]
		rec[2], rec[3] = strconv.FormatFloat(r.Distance, 'f', 6, 64), strconv.FormatFloat(r.Score, 'f', 6, 64)
		rec[4] = strconv.FormatBool(r.Pass)
		switch w.format {
		case "table":
			fmt.Fprintf(w.tab, "%s\t%s\t%s\t%s\t%s\n", rec[0], rec[1], rec[2], rec[3], rec[4])
		case "csv":
			if err := w.csv.Write(rec); err != nil {
				return err
			}
		case "json":
			if w.rows > 0 {
				w.buf.WriteString(",")
			}
			w.buf.WriteString("\n  {")
			for k, col := range Columns {
				if k > 0 {
					w.buf.WriteString(", ")
				}
				num = strconv.AppendQuote(num[:0], col)
				w.buf.Write(num)
				w.buf.WriteString(": ")
				switch k {
				case 0, 1:
					s, _ := json.Marshal(rec[k])
					w.buf.Write(s)
				default:
					w.buf.WriteString(rec[k])
				}
			}
			w.buf.WriteString("}")
		}
		w.rows++
	}
	return nil
}

// Close ends the output and flushes it.
func (w *Writer) Close() error {
	switch w.format {
	case "table":
		if err := w.tab.Flush(); err != nil {
			return err
		}
	case "csv":
		w.csv.Flush()
		if err := w.csv.Error(); err != nil {
			return err
		}
	case "json":
		if w.rows > 0 {
			w.buf.WriteString("\n")
		}
		w.buf.WriteString("]\n")
	}
	return w.buf.Flush()
}
