// Package slurm is the executor that runs each stale stage of a pipeline
// as a job of a Slurm cluster: every stage is submitted at once with
// sbatch, each job starting once the jobs of its upstream stages have
// succeeded (--dependency=afterok, --kill-on-invalid-dep=yes), so that the
// chain goes on without the submitter. A job runs the program's stage
// command on a compute node, which runs the stage through the runner as a
// local run would, on the artifacts root of a shared filesystem. The jobs
// are tracked with squeue, one call per poll for all of them, with
// scontrol show job for the exit code of one that failed (sacct needs
// slurmdbd, which a cluster need not run).
package slurm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/runner"
)

// Name is the executor's name in pipeline.yaml and in leases.
const Name = "slurm"

// Config says where and how the executor submits jobs.
type Config struct {
	// Slurm is pipeline.yaml's slurm block: partition, account, qos and
	// further sbatch arguments.
	pipeline.Slurm
	// Root is the artifacts root, on a filesystem every node shares.
	Root string
	// Dir is the jobs' working directory, the submitter's, so that
	// relative paths mean the same to them; "" means the root.
	Dir string
	// Command is the command line of the job that runs stage, from its
	// program's absolute path, which every node must be able to run.
	Command func(stage string) []string
	// RecordCommand is the command line of a detached run's last job.
	RecordCommand []string
	// LogPath is where a stage's log is, for the last lines of a failure.
	LogPath func(*pipeline.Stage) string
	// DefaultMem is the memory a stage without resources.mem asks for, in
	// megabytes: a job that asks for none gets the whole node's, and then
	// jobs run one at a time. 0 means 2048.
	DefaultMem int64
	// LatencyWait bounds the wait for a completed job's outputs to show on
	// this node's view of the shared filesystem. 0 means 10 s.
	LatencyWait time.Duration
	// Progress, if set, receives a line whenever a job changes state.
	Progress io.Writer
}

// Executor submits stages as Slurm jobs. It implements runner.Scheduler.
type Executor struct {
	cfg Config
	// command runs a Slurm command and returns its standard output.
	command func(ctx context.Context, stdin string, name string, args ...string) (string, error)
	// poll bounds the back-off between two squeue calls.
	minPoll, maxPoll time.Duration
	shown            string // the progress line on the terminal
}

var _ runner.Scheduler = (*Executor)(nil)

// New returns an executor submitting as cfg says.
func New(cfg Config) *Executor {
	if cfg.DefaultMem == 0 {
		cfg.DefaultMem = 2048
	}
	if cfg.LatencyWait == 0 {
		cfg.LatencyWait = 10 * time.Second
	}
	return &Executor{cfg: cfg, command: run, minPoll: 250 * time.Millisecond, maxPoll: 5 * time.Second}
}

// Name implements runner.Scheduler.
func (e *Executor) Name() string { return Name }

// run runs a Slurm command; its error holds the command's stderr.
func run(ctx context.Context, stdin string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errOut.String())
		if msg == "" {
			msg = err.Error()
		}
		return out.String(), &CommandError{Command: name, Msg: msg}
	}
	return out.String(), nil
}

// CommandError is a Slurm command that failed, with what it said.
type CommandError struct {
	Command, Msg string
}

func (e *CommandError) Error() string { return e.Command + ": " + e.Msg }

// Dir is where under the root the jobs' own output files go.
func Dir(root string) string { return filepath.Join(root, pipeline.Internal, "slurm") }

// Execute submits the tasks and waits for their jobs.
func (e *Executor) Execute(ctx context.Context, tasks []*runner.Task) error {
	if _, err := e.Submit(ctx, tasks, false, func([]string) error { return nil }); err != nil {
		return err
	}
	return e.Wait(ctx, tasks)
}

// Submit implements runner.Scheduler: one sbatch per task, in dependency
// order, each naming the jobs of the tasks it comes after.
func (e *Executor) Submit(ctx context.Context, tasks []*runner.Task, record bool, lease func([]string) error) ([]string, error) {
	if err := os.MkdirAll(Dir(e.cfg.Root), 0o755); err != nil {
		return nil, err
	}
	jobOf := map[string]string{}
	var jobs []string
	fail := func(err error) ([]string, error) {
		if len(jobs) > 0 {
			if cerr := e.cancel(context.WithoutCancel(ctx), jobs); cerr != nil {
				err = errors.Join(err, cerr)
			}
		}
		return nil, err
	}
	for _, t := range tasks {
		var after []string
		for _, dep := range t.After {
			if jobOf[dep] == "" {
				return fail(fmt.Errorf("stage %s comes after %s, which was not submitted before it", t.Stage.Name, dep))
			}
			after = append(after, jobOf[dep])
		}
		args := e.sbatchArgs("siamese-"+t.Stage.Name, filepath.Join(Dir(e.cfg.Root), t.Stage.Name+"-%j.out"), t.Stage.Resources)
		if len(after) > 0 {
			args = append(args, "--dependency=afterok:"+strings.Join(after, ":"), "--kill-on-invalid-dep=yes")
		}
		id, err := e.sbatch(ctx, args, e.cfg.Command(t.Stage.Name))
		if err != nil {
			return fail(fmt.Errorf("submit stage %s: %w", t.Stage.Name, err))
		}
		t.Job, jobOf[t.Stage.Name] = id, id
		jobs = append(jobs, id)
		if err := lease(jobs); err != nil {
			return fail(err)
		}
		e.progress("%-10s job %-8s submitted (%s)", t.Stage.Name, id, t.Reason)
	}
	if record {
		args := e.sbatchArgs("siamese-record", filepath.Join(Dir(e.cfg.Root), "record-%j.out"), pipeline.Resources{CPUs: 1, MemMB: 1024})
		args = append(args, "--dependency=afterany:"+strings.Join(jobs, ":"))
		id, err := e.sbatch(ctx, args, e.cfg.RecordCommand)
		if err != nil {
			return fail(fmt.Errorf("submit the job that records the run: %w", err))
		}
		jobs = append(jobs, id)
		if err := lease(jobs); err != nil {
			return fail(err)
		}
		e.progress("%-10s job %-8s submitted (records the run once the others end)", "(record)", id)
	}
	return jobs, nil
}

// sbatchArgs are the options of a job: its name, output file, resources
// and the pipeline's slurm block.
func (e *Executor) sbatchArgs(name, output string, r pipeline.Resources) []string {
	dir := e.cfg.Dir
	if dir == "" {
		dir = e.cfg.Root
	}
	args := []string{"--parsable", "--job-name=" + name, "--output=" + output, "--chdir=" + dir}
	mem := r.MemMB
	if mem == 0 {
		mem = e.cfg.DefaultMem
	}
	args = append(args, fmt.Sprintf("--mem=%dM", mem))
	if r.CPUs > 0 {
		args = append(args, fmt.Sprintf("--cpus-per-task=%d", r.CPUs))
	}
	if m := r.Minutes(); m > 0 {
		args = append(args, fmt.Sprintf("--time=%d", m))
	}
	if r.GPUs > 0 {
		args = append(args, fmt.Sprintf("--gres=gpu:%d", r.GPUs))
	}
	for _, o := range [][2]string{{"--partition", e.cfg.Partition}, {"--account", e.cfg.Account}, {"--qos", e.cfg.QOS}} {
		if o[1] != "" {
			args = append(args, o[0]+"="+o[1])
		}
	}
	return append(args, e.cfg.Args...)
}

// sbatch submits a job that runs argv and returns its id.
func (e *Executor) sbatch(ctx context.Context, args, argv []string) (string, error) {
	if len(argv) == 0 {
		return "", errors.New("no command to run")
	}
	out, err := e.command(ctx, script(argv), "sbatch", args...)
	if err != nil {
		return "", err
	}
	id, _, _ := strings.Cut(strings.TrimSpace(out), ";") // "id;cluster" on a federation
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return "", fmt.Errorf("sbatch printed %q, not a job id", strings.TrimSpace(out))
	}
	return id, nil
}

// script is the batch script that runs argv, with as many Go threads as
// the job has CPUs.
func script(argv []string) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	b.WriteString("export GOMAXPROCS=\"${SLURM_CPUS_PER_TASK:-${SLURM_CPUS_ON_NODE:-1}}\"\n")
	b.WriteString("exec")
	for _, a := range argv {
		b.WriteString(" " + shellQuote(a))
	}
	b.WriteString("\n")
	return b.String()
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Cancel implements runner.Scheduler, with one scancel call.
func (e *Executor) Cancel(ctx context.Context, jobs []string) error { return e.cancel(ctx, jobs) }

// cancel cancels jobs with one scancel call.
func (e *Executor) cancel(ctx context.Context, jobs []string) error {
	if len(jobs) == 0 {
		return nil
	}
	ctx, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()
	_, err := e.command(ctx, "", "scancel", jobs...)
	return err
}

func (e *Executor) progress(format string, args ...any) {
	if e.cfg.Progress != nil {
		e.status("")
		fmt.Fprintf(e.cfg.Progress, format+"\n", args...)
	}
}

// status shows line as the progress line, in place, where Progress is a
// terminal; "" clears it.
func (e *Executor) status(line string) {
	f, ok := e.cfg.Progress.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || line == e.shown {
		return
	}
	fmt.Fprintf(f, "\r\033[K%s", line)
	e.shown = line
}
