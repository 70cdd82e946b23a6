package main

import (
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/siamese-pipeline/siamese/models"
)

// The metrics `siamese models` shows.
var modelsColumns = []string{"roc_auc", "binary_accuracy", "anomaly_auroc_mean_embedding"}

func (a *app) modelsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "models",
		Short: "List the promoted models, marking the current one",
		Long: `List the models that runs promoted, oldest first, with the run that promoted
each, when, the dataset it learned from (its tracked source: a folder, or
the directory of the dataset's files), its classes and its key metrics;
* marks the current one, which "siamese score" uses by default.

A run promotes its model when it ends with exit 0 after checking the quality
gate: the network, anchors, thresholds, class names and preprocessing are
copied to <artifacts>/models/<run id>/ and <artifacts>/models/current is
pointed at it. A failed stage, a failed gate or a --no-gate run never moves
current. The last "keep" models are kept (pipeline.yaml: models: {keep: 10}).`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			root, err := a.artifactsRoot()
			if err != nil {
				return err
			}
			all, err := models.List(root)
			if err != nil {
				return err
			}
			if len(all) == 0 {
				fmt.Fprintf(a.stdout, "no model promoted yet under %s: a run that passes the quality gate promotes its model\n",
					filepath.Join(root, models.Dir))
				return nil
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprint(w, " \tRUN\tPROMOTED\tDATASET\tCLASSES\tIMAGES")
			for _, m := range modelsColumns {
				fmt.Fprintf(w, "\t%s", m)
			}
			fmt.Fprintln(w)
			for _, m := range all {
				mark := " "
				if m.Current {
					mark = "*"
				}
				dataset := m.Dataset
				if dataset == "" {
					dataset = "-"
				}
				classes, err := m.Classes()
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d×%d %s", mark, m.Run, m.Promoted.Local().Format("2006-01-02 15:04"),
					dataset, classList(classes), m.Preprocess.ImageSize, m.Preprocess.ImageSize, m.Preprocess.Filter)
				for _, k := range modelsColumns {
					if v, ok := m.Metrics[k]; ok {
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
}
