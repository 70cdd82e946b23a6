package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/siamese-pipeline/siamese/executor/slurm"
	"github.com/siamese-pipeline/siamese/history"
	"github.com/siamese-pipeline/siamese/report"
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/sweep"
)

// sweepColumns are the metrics `siamese sweep show` prints beside the
// one it chooses by (csv and json have them all).
var sweepColumns = []string{"val_loss", "roc_auc", "binary_accuracy", "knn_accuracy_k1"}

// defaultBy is the metric a sweep chooses by unless told: the best
// epoch's validation loss.
const defaultBy = "val_loss"

func (a *app) sweepCmd() *cobra.Command {
	var (
		sets     []string
		jobs     int
		executor string
		detach   bool
	)
	c := &cobra.Command{
		Use:   "sweep NAME",
		Short: "Run the pipeline once per point of a grid of params, sharing the stages the points have in common",
		Long: `Run a variant of the pipeline for every combination of the values given with
--set (a comma separates values; a list param's values are written [...]),
or of the pipeline file's sweep block. Each variant is a run of its own, in
artifacts/sweeps/NAME/variants/<id>/, recorded in artifacts/runs/; stages
whose fingerprints are the same in several variants run once and are
shared. A sweep promotes nothing: compare with "sweep show", choose with
"sweep promote". Run the same command again to finish what a killed or
failed sweep left.

  siamese sweep lr --set train.lr=1e-3,1.25e-3,1.5e-3 --set train.seed=1,2,3 --jobs 2
  siamese sweep show lr                 the variants, and mean ± sd over seeds
  siamese sweep promote lr              gate and promote the best variant`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("sweep takes a name (or show NAME, promote NAME), got %q", args)}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if jobs < 1 {
				return usageError{fmt.Errorf("--jobs %d: want at least 1", jobs)}
			}
			return a.runSweep(c.Context(), args[0], sets, jobs, executor, detach)
		},
	}
	f := c.Flags()
	f.StringArrayVar(&sets, "set", nil, "sweep a param: stage.param=v1,v2,... (repeatable; one value overrides it in every variant)")
	f.IntVarP(&jobs, "jobs", "j", 1, "variants to run at once (locally)")
	f.StringVar(&executor, "executor", "", "run the variants' stages locally or as Slurm jobs: local or slurm (default: as the pipeline file says)")
	f.BoolVar(&detach, "detach", false, "with --executor slurm: submit every variant's jobs and exit")
	c.AddCommand(a.sweepShowCmd(), a.sweepPromoteCmd())
	return c
}

// sweepAxes are the pipeline file's sweep block with --set's axes.
func (a *app) sweepAxes(r *runner.Runner, sets []string) ([]sweep.Axis, error) {
	var axes []sweep.Axis
	for _, ax := range r.Pipeline.Sweep {
		axes = append(axes, sweep.Axis{Param: ax.Param, Values: ax.Values})
	}
	var over []sweep.Axis
	for _, s := range sets {
		ax, err := sweep.ParseAxis(s)
		if err != nil {
			return nil, usageError{err}
		}
		over = append(over, ax)
	}
	axes = sweep.Merge(axes, over)
	if len(axes) == 0 {
		return nil, usageError{errors.New("nothing to sweep: give --set stage.param=v1,v2,... or a sweep block in the pipeline file")}
	}
	grid, err := sweep.Expand(axes)
	if err != nil {
		return nil, usageError{err}
	}
	for _, vs := range grid { // every variant's params, checked before any runs
		if _, err := a.load(vs); err != nil {
			return nil, err
		}
	}
	return axes, nil
}

// home is the artifacts root a sweep belongs to, absolute.
func (a *app) home() (*runner.Runner, string, error) {
	r, err := a.load(nil)
	if err != nil {
		return nil, "", err
	}
	home, err := filepath.Abs(r.Root())
	return r, home, err
}

func (a *app) runSweep(ctx context.Context, name string, sets []string, jobs int, executor string, detach bool) error {
	if err := sweep.CheckName(name); err != nil {
		return usageError{err}
	}
	base, home, err := a.home()
	if err != nil {
		return err
	}
	if executor == "" {
		executor = base.Pipeline.Executor
	}
	if detach && executor != slurm.Name {
		return usageError{errors.New("--detach needs a cluster: --executor slurm")}
	}
	axes, err := a.sweepAxes(base, sets)
	if err != nil {
		return err
	}
	if executor == slurm.Name {
		n, _ := sweep.Expand(axes)
		jobs = len(n) // every variant's stale stages are submitted at once
	}
	store := &sweep.Store{Dir: sweep.StoreDir(home)}
	file, _ := filepath.Abs(a.file)
	var printMu sync.Mutex
	sw := &sweep.Sweep{Name: name, Home: home, Pipeline: file, Axes: axes, Jobs: jobs, Log: base.Log,
		Run: func(ctx context.Context, v *sweep.Variant, root string) (sweep.Result, error) {
			res, rep, err := a.runVariant(ctx, recordAt{home: home, sweep: name, variant: v.ID}, v, root, store, executor, detach)
			printMu.Lock()
			defer printMu.Unlock()
			fmt.Fprintf(a.stdout, "variant %s (%s): %s\n", v.ID, swept(axes, v), summary(rep, err))
			return res, err
		},
		Current: func(ctx context.Context, v *sweep.Variant, root string) (bool, error) {
			r, err := a.loadAt(root, v.Sets)
			if err != nil {
				return false, err
			}
			rep, err := r.Run(ctx, runner.Options{DryRun: true})
			if err != nil {
				return false, nil
			}
			for _, res := range rep.Results {
				if res.Outcome != runner.Cached {
					return false, nil
				}
			}
			return true, nil
		},
		Running: func(ctx context.Context, v *sweep.Variant, root string) (bool, error) {
			l, err := runner.ReadLease(root)
			if err != nil || l == nil {
				return false, err
			}
			r, err := a.loadAt(root, v.Sets)
			if err != nil {
				return false, err
			}
			s := r.Schedulers[l.Scheduler]
			if s == nil {
				return true, nil
			}
			active, err := s.Active(ctx, l.Jobs)
			return len(active) > 0, err
		},
	}
	st, err := sw.Execute(ctx)
	if detach && err == nil {
		fmt.Fprintf(a.stdout, "detached: every variant's jobs are submitted; the last job of each records it "+
			"(siamese sweep show %s shows what is done)\n", name)
		return nil
	}
	if st != nil {
		fmt.Fprintln(a.stdout)
		if terr := a.showSweep(st, defaultBy, "", "table"); terr != nil {
			err = errors.Join(err, terr)
		}
		if ran, shared, serr := sweep.StageRuns(sweep.Path(home, name)); serr == nil {
			fmt.Fprintf(a.stdout, "\nstages, over every variant: %d ran, %d shared\n", total(ran), total(shared))
		}
		if perr := a.sweepPage(home, st, defaultBy, ""); perr != nil {
			err = errors.Join(err, perr)
		}
	}
	return err
}

// swept is a variant's values of the params with more than one value.
func swept(axes []sweep.Axis, v *sweep.Variant) string {
	var parts []string
	for _, ax := range axes {
		if len(ax.Values) > 1 {
			parts = append(parts, ax.Param+"="+v.Value(ax.Param))
		}
	}
	return strings.Join(parts, " ")
}

// summary says in a few words what a variant's run did.
func summary(rep *runner.Report, err error) string {
	n := map[runner.Outcome]int{}
	if rep != nil {
		for _, r := range rep.Results {
			n[r.Outcome]++
		}
	}
	s := fmt.Sprintf("%d ran, %d shared, %d cached", n[runner.Ran], n[runner.Reused], n[runner.Cached])
	if errors.As(err, new(*runner.InterruptedError)) {
		return "interrupted (" + s + "): " + err.Error()
	}
	if err != nil {
		return "failed (" + s + "): " + err.Error()
	}
	return s
}

// runVariant runs one variant of a sweep into root, as "siamese run --set
// ..." would with that root, and records its run in the sweep's home.
func (a *app) runVariant(ctx context.Context, at recordAt, v *sweep.Variant, root string, store runner.Share, executor string, detach bool) (sweep.Result, *runner.Report, error) {
	var res sweep.Result
	r, err := a.loadAt(root, v.Sets)
	if err != nil {
		return res, nil, err
	}
	r.Share = store
	r.Log = r.Log.With("variant", v.ID)
	opt := runner.Options{Jobs: 2, Detach: detach}
	record := []string{"--sweep", at.sweep, "--variant", v.ID, "--sweep-home", at.home}
	if err := a.useExecutor(r, &opt, executor, v.Sets, true, record...); err != nil {
		return res, nil, err
	}
	var run *history.Run
	opt.Finish = func(rep *runner.Report, err error) error {
		var ferr error
		run, ferr = a.finishAt(at, r, rep, err)
		return ferr
	}
	rep, err := r.Run(ctx, opt)
	if detach {
		res.Submitted = err == nil
		return res, rep, err
	}
	res, err = variantResult(r, rep, run, err)
	return res, rep, err
}

// variantResult is what a variant's run gives its sweep: the run's id and
// metrics and, if it succeeded, its validation metrics.
func variantResult(r *runner.Runner, rep *runner.Report, run *history.Run, err error) (sweep.Result, error) {
	var res sweep.Result
	if run != nil {
		res.Run, res.Metrics = run.ID, maps.Clone(run.Metrics)
	}
	if err == nil {
		val, verr := validationMetrics(r, rep)
		if verr != nil {
			return res, verr
		}
		if res.Metrics == nil {
			res.Metrics = map[string]float64{}
		}
		maps.Copy(res.Metrics, val)
	}
	return res, err
}

// sweepRecord names the sweep variant that a detached run's record job
// records.
type sweepRecord struct{ name, variant, home string }

// recordVariant records a variant's detached run, as its last job: in
// the sweep's home history and in the sweep's state, and rewrites the
// sweep's page.
func (a *app) recordVariant(ctx context.Context, sw sweepRecord, r *runner.Runner, rep *runner.Report, runErr error) error {
	run, ferr := a.finishAt(recordAt{home: sw.home, sweep: sw.name, variant: sw.variant}, r, rep, runErr)
	res, err := variantResult(r, rep, run, runErr)
	if err != nil && runErr == nil {
		runErr = err
	}
	dir := sweep.Path(sw.home, sw.name)
	rerr := sweep.Record(ctx, dir, sw.variant, res, runErr)
	var perr error
	if st, err := sweep.ReadState(dir); err == nil {
		perr = a.sweepPage(sw.home, st, defaultBy, "")
	}
	return errors.Join(ferr, rerr, perr)
}

// validationMetrics are the best epoch's validation metrics of the
// training histories (outs named history.arrow with a val_loss column)
// that the run made or found up to date.
func validationMetrics(r *runner.Runner, rep *runner.Report) (map[string]float64, error) {
	out := map[string]float64{}
	current := currentStages(rep)
	for _, s := range r.Pipeline.Stages {
		for _, o := range s.Outs {
			if o.Name() != "history.arrow" || !current[s.Name] {
				continue
			}
			m, err := sweep.ValidationMetrics(filepath.Join(r.Root(), filepath.FromSlash(o.Path)))
			if err != nil {
				return nil, err
			}
			maps.Copy(out, m)
		}
	}
	return out, nil
}

// chooseBy checks the metric a sweep is compared by: a validation metric
// with --by, a test metric only with --by-test-metric.
func chooseBy(by, byTest string) (string, error) {
	switch {
	case by != "" && byTest != "":
		return "", usageError{errors.New("use --by or --by-test-metric, not both")}
	case byTest != "":
		return byTest, nil
	case by == "":
		return defaultBy, nil
	case !sweep.IsValidation(by):
		return "", usageError{fmt.Errorf("--by %s: %s is measured on the test set; to choose by it all the same, say --by-test-metric %s", by, by, by)}
	}
	return by, nil
}

func (a *app) sweepShowCmd() *cobra.Command {
	var format, by, byTest, goal string
	c := &cobra.Command{
		Use:   "show NAME",
		Short: "List a sweep's variants and, over seeds, each group's mean ± sd; mark the best",
		Long: `List each variant of a sweep with its params and metrics, then the groups of
variants that differ only by seed (params named seed or *_seed) with each
metric's mean ± sample sd and n, the best group by --by marked with '*'.
The best is chosen on validation (val_loss, the best epoch's validation
loss, unless --by names another val_* metric); a test-set metric only with
--by-test-metric. csv and json hold every metric.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			_, st, metric, err := a.sweepState(args[0], by, byTest)
			if err != nil {
				return err
			}
			return a.showSweep(st, metric, goal, format)
		},
	}
	c.Flags().StringVar(&format, "format", "table", "table, csv or json")
	byFlags(c, &by, &byTest, &goal)
	return c
}

// sweepState reads the sweep name's state, with the metric --by or
// --by-test-metric chooses by, and the sweep's home.
func (a *app) sweepState(name, by, byTest string) (string, *sweep.State, string, error) {
	metric, err := chooseBy(by, byTest)
	if err != nil {
		return "", nil, "", err
	}
	_, home, err := a.home()
	if err != nil {
		return "", nil, "", err
	}
	st, err := sweep.ReadState(sweep.Path(home, name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, "", usageError{fmt.Errorf("no sweep %q under %s", name, home)}
	}
	return home, st, metric, err
}

// byFlags are show's and promote's flags that say how to choose.
func byFlags(c *cobra.Command, by, byTest, goal *string) {
	f := c.Flags()
	f.StringVar(by, "by", "", "the validation metric (val_*) that picks the best (default val_loss)")
	f.StringVar(byTest, "by-test-metric", "", "pick the best by this test-set metric instead (roc_auc, ...)")
	f.StringVar(goal, "goal", "", "min or max (default: min for losses and errors, else max)")
}

func (a *app) showSweep(st *sweep.State, by, goal, format string) error {
	t, err := sweep.NewTable(st, by, goal)
	if err != nil {
		return usageError{err}
	}
	switch format {
	case "table":
		if err := t.WriteText(a.stdout, sweepColumns); err != nil {
			return err
		}
		if t.BestGroup() == nil {
			fmt.Fprintf(a.stdout, "no finished variant has %s; no group is best\n", by)
		}
		return nil
	case "csv":
		return t.WriteCSV(a.stdout)
	case "json":
		return t.WriteJSON(a.stdout)
	}
	return usageError{fmt.Errorf("--format %q: want table, csv or json", format)}
}

func (a *app) sweepPromoteCmd() *cobra.Command {
	var variant, by, byTest, goal string
	c := &cobra.Command{
		Use:   "promote NAME",
		Short: "Check the quality gate on a sweep's chosen variant and promote its model, as a run would",
		Long: `Choose a variant of a sweep (--variant, or else the best variant by --by of
the best group, as "sweep show" marks it), run it (every stage is up to date,
so nothing runs unless something changed) and record the run in the
history with the quality gate checked: a variant that passes is promoted to
artifacts/models/ as a run that passes is. Exit 3 if the gate fails.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			home, st, metric, err := a.sweepState(args[0], by, byTest)
			if err != nil {
				return err
			}
			dir := sweep.Path(home, args[0])
			v, err := chooseVariant(st, variant, metric, goal)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "variant %s (%s), run %s\n", v.ID, strings.Join(v.Sets, " "), v.Run)
			r, err := a.loadAt(sweep.VariantRoot(dir, v.ID), v.Sets)
			if err != nil {
				return err
			}
			r.Share = &sweep.Store{Dir: sweep.StoreDir(home)}
			opt := runner.Options{Jobs: 2, Finish: func(rep *runner.Report, err error) error {
				_, ferr := a.finishAt(recordAt{home: home, sweep: args[0], variant: v.ID, promote: true}, r, rep, err)
				return ferr
			}}
			rep, err := r.Run(c.Context(), opt)
			a.printReport(rep, false)
			return err
		},
	}
	c.Flags().StringVar(&variant, "variant", "", "the variant to promote, by id (default: the best)")
	byFlags(c, &by, &byTest, &goal)
	return c
}

// chooseVariant finds the variant id, or else the best done variant.
func chooseVariant(st *sweep.State, id, by, goal string) (*sweep.Variant, error) {
	if id == "" {
		t, err := sweep.NewTable(st, by, goal)
		if err != nil {
			return nil, usageError{err}
		}
		best := t.BestVariant()
		if best == nil {
			return nil, fmt.Errorf("sweep %s: no finished variant has %s to choose by; name one with --variant", st.Name, by)
		}
		id = best.ID
	}
	i := slices.IndexFunc(st.Variants, func(v *sweep.Variant) bool { return v.ID == id })
	if i < 0 {
		return nil, usageError{fmt.Errorf("sweep %s has no variant %q", st.Name, id)}
	}
	if v := st.Variants[i]; v.Status != sweep.Done {
		return nil, fmt.Errorf("variant %s is %s: finish the sweep first", v.ID, v.Status)
	}
	return st.Variants[i], nil
}

// sweepPage writes the sweep's report page, sweeps/NAME/report.html,
// with its plot beside it (sweeps/NAME/<metric>.png).
func (a *app) sweepPage(home string, st *sweep.State, by, goal string) error {
	t, err := sweep.NewTable(st, by, goal)
	if err != nil {
		return err
	}
	dir := sweep.Path(home, st.Name)
	g := t.Cells(sweepColumns)
	page := report.Sweep{Name: st.Name, Summary: t.Summary(), VariantHead: g.VariantHead, Variants: g.Variants,
		GroupHead: g.GroupHead, Groups: g.Groups, Best: g.Best}
	png := filepath.Join(dir, by+".png")
	ok, err := t.Plot(png)
	if err != nil {
		return fmt.Errorf("sweep %s: plot: %w", st.Name, err)
	}
	if ok {
		page.Plot = &report.Image{Title: by + " against the swept value", Path: png}
	}
	return report.WriteSweep(filepath.Join(dir, "report.html"), page)
}

// shareFlag is the stage command's flag that names a sweep's store, for
// a variant's cluster jobs.
func shareFlag(r *runner.Runner) []string {
	if s, ok := r.Share.(*sweep.Store); ok {
		return []string{"--share", s.Dir}
	}
	return nil
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
