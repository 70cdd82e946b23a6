package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/siamese-pipeline/siamese/executor/slurm"
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/sweep"
)

// schedulers are the cluster schedulers that can hold r's root, set up
// to run this program's jobs with the same pipeline file, root and --set
// overrides as this run.
// recordArgs are further flags of a detached run's record-run job.
func (a *app) schedulers(r *runner.Runner, sets []string, noGate bool, recordArgs ...string) (map[string]runner.Scheduler, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this program, for the jobs to run: %w", err)
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	file, err := filepath.Abs(a.file)
	if err != nil {
		return nil, err
	}
	root, err := filepath.Abs(r.Root())
	if err != nil {
		return nil, err
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	global := []string{exe, "-f", file, "--artifacts", root, "--log-format", a.logFormat}
	if a.verbose {
		global = append(global, "--verbose")
	}
	var over []string
	for _, s := range sets {
		over = append(over, "--set", s)
	}
	record := append(append(append([]string{}, global...), "record-run"), over...)
	if noGate {
		record = append(record, "--no-gate")
	}
	record = append(record, recordArgs...)
	ex := slurm.New(slurm.Config{
		Slurm: r.Pipeline.Slurm,
		Root:  root,
		Dir:   wd,
		Command: func(stage string) []string {
			return append(append(append([]string{}, global...), "stage", stage), append(over, shareFlag(r)...)...)
		},
		RecordCommand: record,
		LogPath:       r.LogPath,
		Progress:      a.progress(r),
	})
	return map[string]runner.Scheduler{slurm.Name: ex}, nil
}

// progress is where the Slurm executor writes its lines: stderr as they
// are, or as log records with --log-format json, where stderr has only
// JSON.
func (a *app) progress(r *runner.Runner) io.Writer {
	if a.logFormat == "json" || r.Share != nil { // a sweep's variants log theirs, each named
		return logWriter{r.Log}
	}
	return a.stderr
}

// logWriter logs each line written to it.
type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.log.Info(strings.Join(strings.Fields(line), " "), "executor", slurm.Name)
	}
	return len(p), nil
}

// useExecutor sets the executor of a run: --executor, or else the
// pipeline file's.
func (a *app) useExecutor(r *runner.Runner, opt *runner.Options, name string, sets []string, noGate bool, recordArgs ...string) error {
	if name == "" {
		name = r.Pipeline.Executor
	}
	switch name {
	case "local":
		if opt.Detach {
			return usageError{fmt.Errorf("--detach needs a cluster: --executor slurm")}
		}
		return nil
	case slurm.Name:
		s, err := a.schedulers(r, sets, noGate, recordArgs...)
		if err != nil {
			return err
		}
		r.Schedulers, opt.Executor = s, s[slurm.Name]
		return nil
	}
	return usageError{fmt.Errorf("--executor %q: want local or slurm", name)}
}

// stageCmd runs one stage on a cluster's compute node, as a job of a run.
func (a *app) stageCmd() *cobra.Command {
	var sets []string
	var share string
	c := &cobra.Command{
		Use:    "stage NAME",
		Short:  "Run one stage now, as a cluster job of a run does (no planning, no lock)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			r, err := a.load(sets)
			if err != nil {
				return err
			}
			if share != "" {
				r.Share = &sweep.Store{Dir: share}
			}
			reason := "submitted"
			if id := os.Getenv("SLURM_JOB_ID"); id != "" {
				reason = "slurm job " + id
			}
			err = r.RunStage(c.Context(), args[0], reason)
			// What to ask for as the stage's resources.mem.
			var ru syscall.Rusage
			if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
				r.Log.Info("peak memory", "stage", args[0], "max_rss_mb", ru.Maxrss/1024)
			}
			return err
		},
	}
	c.Flags().StringArrayVar(&sets, "set", nil, "override a param: stage.param=value (repeatable)")
	c.Flags().StringVar(&share, "share", "", "a sweep's store of shared stage outputs")
	return c
}

// recordRunCmd is a detached run's last job: it records the run once the
// run's other jobs have ended.
func (a *app) recordRunCmd() *cobra.Command {
	var (
		sets   []string
		noGate bool
		sw     sweepRecord
	)
	c := &cobra.Command{
		Use:    "record-run",
		Short:  "Record a detached run on the cluster once its jobs have ended",
		Hidden: true,
		Args:   noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			r, err := a.load(sets)
			if err != nil {
				return err
			}
			if noGate {
				r.Pipeline.Gate = nil
			}
			if r.Schedulers, err = a.schedulers(r, sets, noGate); err != nil {
				return err
			}
			var rep *runner.Report
			err = r.RecordDetached(c.Context(), os.Getenv("SLURM_JOB_ID"), func(report *runner.Report, err error) error {
				rep = report
				if sw.name != "" {
					return a.recordVariant(c.Context(), sw, r, report, err)
				}
				return a.finish(r, report, err)
			})
			a.printReport(rep, false)
			return err
		},
	}
	c.Flags().StringArrayVar(&sets, "set", nil, "override a param: stage.param=value (repeatable)")
	c.Flags().BoolVar(&noGate, "no-gate", false, "skip the quality gate of pipeline.yaml")
	c.Flags().StringVar(&sw.name, "sweep", "", "the sweep the run is a variant of")
	c.Flags().StringVar(&sw.variant, "variant", "", "the variant's id")
	c.Flags().StringVar(&sw.home, "sweep-home", "", "the artifacts root of the sweep")
	return c
}

// printLease prints the jobs that hold the root, and their states, for
// status.
func (a *app) printLease(c *cobra.Command, r *runner.Runner, sets []string) error {
	l, err := runner.ReadLease(r.Root())
	if err != nil || l == nil {
		return err
	}
	s, err := a.schedulers(r, sets, false)
	if err != nil {
		return err
	}
	ex, ok := s[l.Scheduler].(*slurm.Executor)
	if !ok {
		return fmt.Errorf("%s is leased to %s jobs %s", r.Root(), l.Scheduler, strings.Join(l.Jobs, ", "))
	}
	jobs, err := ex.Jobs(c.Context(), l.Jobs)
	if err != nil {
		return fmt.Errorf("the jobs that hold %s: %w", r.Root(), err)
	}
	how := "waiting"
	if l.Detached {
		how = "detached"
	}
	fmt.Fprintf(a.stdout, "\nslurm jobs of the %s run started %s on %s:\n", how, l.Start.Format("2006-01-02 15:04:05"), l.Host)
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "STAGE\tJOB\tSTATE")
	listed := map[string]bool{}
	for _, st := range l.Stages {
		if st.Job != "" {
			fmt.Fprintf(w, "%s\t%s\t%s\n", st.Stage, st.Job, jobState(jobs, st.Job))
			listed[st.Job] = true
		}
	}
	for _, id := range l.Jobs {
		if !listed[id] {
			fmt.Fprintf(w, "%s\t%s\t%s\n", "(record)", id, jobState(jobs, id))
		}
	}
	return w.Flush()
}

func jobState(jobs map[string]slurm.Job, id string) string {
	j, ok := jobs[id]
	if !ok {
		return "gone"
	}
	if j.Reason != "" && j.Reason != "None" {
		return j.State + " (" + j.Reason + ")"
	}
	return j.State
}

// printDetached says which jobs a detached run left to record it.
func (a *app) printDetached(r *runner.Runner) {
	l, err := runner.ReadLease(r.Root())
	if err != nil || l == nil {
		return
	}
	fmt.Fprintf(a.stdout, "detached: slurm jobs %s hold %s; the last records the run (siamese status shows them, siamese runs the record)\n",
		strings.Join(l.Jobs, " "), r.Root())
}
