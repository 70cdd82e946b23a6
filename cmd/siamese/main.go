// Command siamese runs the Siamese-network pipeline that pipeline.yaml
// declares: each stage is cached, can be rerun alone and resumes after a
// crash. Run "siamese --help" for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/stages"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // a stage failed, or the run could not start
	exitUsage  = 2 // bad flags, arguments or pipeline file
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	ctx, stop := notifySignals(context.Background())
	defer stop()
	stopProfile := startProfile(os.Getenv("SIAMESE_CPUPROFILE"))
	code := newApp(os.Stdout, os.Stderr, stages.Registry()).run(ctx, os.Args[1:])
	stopProfile()
	os.Exit(code)
}

// app is the command line, with its outputs and stages injectable for tests.
type app struct {
	stdout, stderr io.Writer
	registry       runner.Registry

	file      string
	root      string
	logFormat string
	verbose   bool
}

func newApp(stdout, stderr io.Writer, registry runner.Registry) *app {
	return &app{stdout: stdout, stderr: stderr, registry: registry}
}

// usageError marks errors in how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func (a *app) run(ctx context.Context, args []string) int {
	root := &cobra.Command{
		Use:   "siamese",
		Short: "Train a Siamese network on Fashion-MNIST as a cached, resumable pipeline",
		Long: `siamese runs the stages that pipeline.yaml declares (ingest, triplets,
split, pictures, notebook, train, evaluate). Each stage's outputs are written
under the artifacts root as .npy and Arrow files; a stage whose params, code
and inputs have not changed is skipped.

Every run is recorded under the artifacts root in runs/, with a report.html.

Exit codes: 0 success, 1 a stage failed (or another run holds the lock),
2 usage or pipeline file error, 3 the quality gate failed.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       programVersion(),
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown command %q; see siamese --help", args[0])}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return c.Help() },
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetArgs(args)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVarP(&a.file, "file", "f", "pipeline.yaml", "pipeline file")
	pf.StringVar(&a.root, "artifacts", "", "artifacts root (default: as the pipeline file says)")
	pf.StringVar(&a.logFormat, "log-format", "text", "log format: text or json")
	pf.BoolVarP(&a.verbose, "verbose", "v", false, "log debug messages too")
	root.AddCommand(a.runCmd(), a.statusCmd(), a.dagCmd(), a.runsCmd(), a.cleanCmd(), a.versionCmd(),
		a.stageCmd(), a.recordRunCmd())
	root.AddCommand(a.scoreCmd(), a.modelsCmd(), a.initCmd())
	root.AddCommand(a.sweepCmd())

	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	if a.logFormat == "json" {
		slog.New(slog.NewJSONHandler(a.stderr, nil)).Error("siamese failed", "err", err.Error(), "exit", code)
	} else {
		fmt.Fprintln(a.stderr, "siamese:", err)
	}
	return code
}

func exitCode(err error) int {
	if code, ok := interruptedExit(err); ok {
		return code
	}
	var (
		res     *runner.ResourceError
		usage   usageError
		perr    *pipeline.Error
		missing *runner.MissingInputError
		gerr    *gateError
		serr    *runner.StageError
	)
	switch {
	case errors.As(err, &serr): // whatever made the stage fail, stages ran
		return exitFailed
	case errors.As(err, &usage), errors.As(err, &perr), errors.As(err, &missing), errors.As(err, &res):
		return exitUsage
	case errors.As(err, &gerr):
		return exitGate
	}
	return exitFailed
}

// noArgs rejects arguments for commands that take none.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", c.CommandPath(), args)}
	}
	return nil
}

// logHandler makes a handler of the --log-format format writing to w.
func (a *app) logHandler(w io.Writer) (slog.Handler, error) {
	level := slog.LevelInfo
	if a.verbose {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	switch a.logFormat {
	case "text":
		return slog.NewTextHandler(w, opts), nil
	case "json":
		return slog.NewJSONHandler(w, opts), nil
	}
	return nil, usageError{fmt.Errorf("--log-format %q: want text or json", a.logFormat)}
}

// load reads the pipeline file and applies --set overrides.
func (a *app) load(sets []string) (*runner.Runner, error) { return a.loadAt(a.root, sets) }

// loadAt is load with the artifacts root root ("": the file's).
func (a *app) loadAt(root string, sets []string) (*runner.Runner, error) {
	p, err := pipeline.Load(a.file, a.registry, root)
	if err != nil {
		return nil, err
	}
	if err := p.SetAll(sets); err != nil {
		return nil, err
	}
	h, err := a.logHandler(a.stderr)
	if err != nil {
		return nil, err
	}
	r := &runner.Runner{Pipeline: p, Stages: a.registry, Log: slog.New(h), Program: programVersion(),
		LogHandler: func(w io.Writer) slog.Handler { h, _ := a.logHandler(w); return h }}
	if r.Schedulers, err = a.schedulers(r, sets, false); err != nil {
		return nil, err
	}
	return r, nil
}

func programVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}
