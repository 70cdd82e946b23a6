package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/runner"
)

func (a *app) runCmd() *cobra.Command {
	var (
		opt      runner.Options
		sets     []string
		noGate   bool
		executor string
		arrays   bool
	)
	c := &cobra.Command{
		Use:   "run",
		Short: "Run the pipeline's stages that are not up to date",
		Long: `Run every stage whose params, code or inputs changed since its last run, or
whose outputs are missing or were edited, and everything downstream of it.

  siamese run                          run what is stale
  siamese run --only train             rerun one stage from its deps' outputs on disk
  siamese run --from split             rerun a stage and everything downstream
  siamese run --set triplets.per_class=100 --dry-run
                                       say what would run, and why
  siamese run --executor slurm --detach
                                       submit each stale stage as a Slurm job, and return`,
		Args: setArgs(&sets),
		RunE: func(c *cobra.Command, args []string) error {
			if opt.Jobs < 1 {
				return usageError{fmt.Errorf("--jobs %d: want at least 1", opt.Jobs)}
			}
			r, err := a.load(sets)
			if err != nil {
				return err
			}
			if noGate {
				r.Pipeline.Gate = nil
			}
			if c.Flags().Changed("notebook-arrays") {
				r.Pipeline.NotebookArrays = arrays
			}
			if err := a.useExecutor(r, &opt, executor, sets, noGate); err != nil {
				return err
			}
			opt.Finish = func(rep *runner.Report, err error) error { return a.finish(r, rep, err) }
			rep, err := r.Run(c.Context(), opt)
			a.printReport(rep, opt.DryRun)
			if opt.Detach && err == nil {
				a.printDetached(r)
			}
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&opt.Only, "only", "", "run just this stage, from its deps' outputs on disk")
	f.StringVar(&opt.From, "from", "", "run this stage and everything downstream of it")
	f.BoolVar(&opt.Force, "force", false, "run every stage, cached or not")
	f.BoolVarP(&opt.DryRun, "dry-run", "n", false, "print what would run and why; run nothing")
	f.StringArrayVar(&sets, "set", nil, "override a param: stage.param=value (repeatable)")
	f.IntVarP(&opt.Jobs, "jobs", "j", 2, "stages to run at once")
	f.BoolVar(&noGate, "no-gate", false, "skip the quality gate of pipeline.yaml")
	f.BoolVar(&arrays, "notebook-arrays", true, "write the notebook's arrays (the notebook stage); false leaves them out (default: as the pipeline file's notebook_arrays says, else true)")
	f.StringVar(&executor, "executor", "", "run the stages locally or as Slurm jobs: local or slurm (default: as the pipeline file says, else local)")
	f.BoolVar(&opt.Detach, "detach", false, "with --executor slurm: submit the jobs, print their ids and exit; a last job records the run")
	return c
}

// printReport prints one line per stage: what happened, how long it took, why.
func (a *app) printReport(rep *runner.Report, dryRun bool) {
	if rep == nil || len(rep.Results) == 0 {
		return
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "STAGE\tOUTCOME\tTIME\tWHY")
	for _, r := range rep.Results {
		took := ""
		if !r.Start.IsZero() && !r.End.IsZero() {
			took = r.End.Sub(r.Start).Round(time.Millisecond).String()
		}
		why := r.Reason
		if r.Err != nil && r.Outcome == runner.Failed {
			why = r.Err.Error()
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.Stage, r.Outcome, took, why)
	}
	w.Flush()
	if !dryRun {
		fmt.Fprintf(a.stdout, "total %s\n", rep.End.Sub(rep.Start).Round(time.Millisecond))
	}
}

func (a *app) statusCmd() *cobra.Command {
	var sets []string
	c := &cobra.Command{
		Use:   "status",
		Short: "Say for each stage whether it is up to date, stale (and why) or never run",
		Args:  setArgs(&sets),
		RunE: func(c *cobra.Command, args []string) error {
			r, err := a.load(sets)
			if err != nil {
				return err
			}
			rep, err := r.Run(c.Context(), runner.Options{DryRun: true})
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			for _, res := range rep.Results {
				state := "up to date"
				switch {
				case res.Outcome == runner.Skipped && res.Reason != "":
					state = res.Reason
				case res.Outcome == runner.WouldRun && res.Reason == "never run":
					state = "never run"
				case res.Outcome == runner.WouldRun:
					state = "stale: " + res.Reason
				}
				fmt.Fprintf(w, "%s\t%s\n", res.Stage, state)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			return a.printLease(c, r, sets)
		},
	}
	c.Flags().StringArrayVar(&sets, "set", nil, "override a param: stage.param=value (repeatable)")
	return c
}

func (a *app) dagCmd() *cobra.Command {
	var dot bool
	c := &cobra.Command{
		Use:   "dag",
		Short: "Print the pipeline's stages and dependencies (--dot for Graphviz)",
		Args:  noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			r, err := a.load(nil)
			if err != nil {
				return err
			}
			if dot {
				fmt.Fprintln(a.stdout, "digraph pipeline {")
				fmt.Fprintln(a.stdout, "  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];")
				for _, s := range r.Pipeline.Stages {
					fmt.Fprintf(a.stdout, "  %q [label=%q];\n", s.Name, s.Name+"\n"+strings.Join(outs(s), "\n"))
					for _, d := range s.Deps {
						fmt.Fprintf(a.stdout, "  %q -> %q;\n", d, s.Name)
					}
				}
				fmt.Fprintln(a.stdout, "}")
				return nil
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "STAGE\tDEPS\tOUTS")
			for _, s := range r.Pipeline.Stages {
				deps := strings.Join(s.Deps, ", ")
				if deps == "" {
					deps = "-"
				}
				o := strings.Join(outs(s), ", ")
				if r.Pipeline.Off(s) {
					o = "(" + pipeline.OffReason + ")"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\n", s.Name, deps, o)
			}
			return w.Flush()
		},
	}
	c.Flags().BoolVar(&dot, "dot", false, "print Graphviz dot instead of text")
	return c
}

// outs lists a stage's outs as pipeline.yaml writes them.
func outs(s *pipeline.Stage) []string {
	var out []string
	for _, o := range s.Outs {
		out = append(out, o.String())
	}
	return out
}

func (a *app) cleanCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "clean",
		Short: "Remove every stage's outputs, records and checkpoints",
		Args:  noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			r, err := a.load(nil)
			if err != nil {
				return err
			}
			if err := r.Clean(); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "removed the outputs and records under %s\n", r.Root())
			return nil
		},
	}
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the program's version",
		Args:  noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			fmt.Fprintln(a.stdout, "siamese", programVersion())
			return nil
		},
	}
}
