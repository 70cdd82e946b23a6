package main

import (
	"fmt"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/siamese-pipeline/siamese/history"
)

// The metrics `siamese runs` shows in its table.
var runsColumns = []string{"binary_accuracy", "roc_auc", "knn_accuracy_k1"}

func (a *app) runsCmd() *cobra.Command {
	var limit int
	c := &cobra.Command{
		Use:   "runs",
		Short: "List recent runs: outcome, stages run and cached, key metrics",
		Long: `List recent runs, newest last. Each run's record is artifacts/runs/<id>.json,
its report artifacts/runs/<id>/report.html; artifacts/runs/runs.arrow holds them all.

  siamese runs                   the last 20 runs
  siamese runs diff latest~1 latest
                                 what changed in params and metrics`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			root, err := a.artifactsRoot()
			if err != nil {
				return err
			}
			runs, damaged, err := history.Scan(root)
			if err != nil {
				return err
			}
			for _, d := range damaged {
				fmt.Fprintf(a.stderr, "warning: run record is damaged; left out: %v\n", d)
			}
			if len(runs) > limit && limit > 0 {
				runs = runs[len(runs)-limit:]
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprint(w, "RUN\tSTARTED\tTOOK\tOUTCOME\tRAN\tCACHED\tSWEEP")
			for _, m := range runsColumns {
				fmt.Fprintf(w, "\t%s", m)
			}
			fmt.Fprintln(w)
			for _, r := range runs {
				ran, cached := 0, 0
				for _, s := range r.Stages {
					switch s.Outcome {
					case "ran":
						ran++
					case "cached":
						cached++
					}
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%s", r.ID, r.Start.Local().Format("2006-01-02 15:04"),
					r.End.Sub(r.Start).Round(10*time.Millisecond), r.Outcome, ran, cached, sweepOf(r))
				for _, m := range runsColumns {
					if v, ok := r.Metrics[m]; ok {
						fmt.Fprintf(w, "\t%.4f", v)
					} else {
						fmt.Fprint(w, "\t-")
					}
				}
				fmt.Fprintln(w)
			}
			return w.Flush()
		},
	}
	c.Flags().IntVarP(&limit, "limit", "n", 20, "show at most this many runs (0: all)")
	c.AddCommand(a.runsDiffCmd())
	return c
}

func (a *app) runsDiffCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "diff A B",
		Short: "Show what changed in params and metrics from run A to run B",
		Long: `Show the params and metrics that differ between two runs. A run is named by
its id, a unique prefix of it, "latest", or "latest~N" (N runs before the latest).

Counts print as integers and metrics to 4 decimals, with the change after
the newer value; a metric whose values agree to 4 decimals is not listed.
"not run" marks the metrics of a run that did not run the stages that
report them (run --only of another stage); "-" a value the run lacks.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError{fmt.Errorf("runs diff takes two runs, got %d", len(args))}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			root, err := a.artifactsRoot()
			if err != nil {
				return err
			}
			var runs [2]*history.Run
			for i, ref := range args {
				if runs[i], err = history.Find(root, ref); err != nil {
					return usageError{err}
				}
			}
			fmt.Fprintf(a.stdout, "%s (%s) → %s (%s)\n", runs[0].ID, runs[0].Outcome, runs[1].ID, runs[1].Outcome)
			changes := history.Diff(runs[0], runs[1])
			if len(changes) == 0 {
				fmt.Fprintln(a.stdout, "no changes in params or metrics")
				return nil
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "KIND\tNAME\tFROM\tTO")
			for _, ch := range changes {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", ch.Kind, ch.Key, absent(ch, ch.Old, runs[0]), absent(ch, ch.New, runs[1]))
			}
			return w.Flush()
		},
	}
}

// absent writes a change's value v in run r, or where r has none, why:
// "not run" for a metric of a run whose stages that report metrics did
// not run (an --only run of another stage), "-" otherwise.
func absent(ch history.Change, v string, r *history.Run) string {
	if v == "" && ch.Kind == "metric" && len(r.Metrics) == 0 {
		return "not run"
	}
	return orDash(v)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// artifactsRoot is the root that --artifacts or the pipeline file names.
func (a *app) artifactsRoot() (string, error) {
	if a.root != "" {
		return a.root, nil
	}
	r, err := a.load(nil)
	if err != nil {
		return "", err
	}
	return filepath.Clean(r.Root()), nil
}

// sweepOf names the sweep and variant a run was made for, or "-".
func sweepOf(r *history.Run) string {
	if r.Sweep == "" {
		return "-"
	}
	return r.Sweep + "/" + r.Variant
}
