package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/siamese-pipeline/siamese/pipeline"
)

// runStage runs one stage into a temporary directory and, on success,
// moves its outputs into place and writes its record.
func (r *Runner) runStage(ctx context.Context, s *pipeline.Stage, reason string) error {
	root := r.Root()
	impl := r.Stages[s.Uses]
	if impl == nil {
		return fmt.Errorf("no implementation %q", s.Uses)
	}
	// Inputs are final by now: the deps that ran have moved theirs into place.
	pl := &planner{root: root, p: r.Pipeline, outs: map[string]File{}}
	if err := r.knownOuts(pl, s); err != nil {
		return err
	}
	deps, err := pl.depFiles(s)
	if err != nil {
		return err
	}
	fp := fingerprint(s, deps)
	tmpRoot := filepath.Join(root, internalDir, "tmp")
	if err := os.MkdirAll(tmpRoot, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(r.LogPath(s)), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(tmpRoot, s.Name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	inputs := map[string]string{}
	for name, ref := range pl.inputs(s) {
		inputs[name] = filepath.Join(root, filepath.FromSlash(ref.out.Path))
	}
	outputs := map[string]string{}
	for _, o := range s.Outs {
		p := filepath.Join(tmp, filepath.FromSlash(o.Path))
		dir := filepath.Dir(p)
		if o.Dir {
			dir = p
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		outputs[o.Name()] = p
	}
	stateDir := filepath.Join(root, internalDir, "state", s.Name+"-"+fp[len("sha256:"):][:16])
	logFile, err := os.Create(r.LogPath(s))
	if err != nil {
		return fmt.Errorf("stage log: %w", err)
	}
	defer logFile.Close()
	newHandler := r.LogHandler
	if newHandler == nil {
		newHandler = func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) }
	}
	log := slog.New(slog.NewMultiHandler(r.log().Handler(), newHandler(logFile))).With("stage", s.Name)
	log.Info("stage running", "reason", reason)
	env := &Env{Stage: s.Name, Params: s.Params, Log: log, inputs: inputs, outputs: outputs, stateDir: stateDir}

	rec := &Record{Stage: s.Name, Uses: s.Uses, Version: s.Spec.Version, Fingerprint: fp,
		Params: s.Params, Deps: deps, Program: r.Program, Start: time.Now()}
	if err := impl.Run(ctx, env); err != nil {
		log.Error("stage failed", "err", err)
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, o := range s.Outs {
		f, err := describeFile(outputs[o.Name()], o.Path, nil)
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("stage wrote no %s", o)
		}
		if err != nil {
			return err
		}
		rec.Outs = append(rec.Outs, f)
	}
	// From here on a crash leaves no record, so the next run redoes the stage.
	if err := removeRecord(root, s.Name); err != nil {
		return err
	}
	for _, o := range s.Outs {
		final := filepath.Join(root, filepath.FromSlash(o.Path))
		if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
			return err
		}
		if err := os.RemoveAll(final); err != nil {
			return err
		}
		if err := os.Rename(outputs[o.Name()], final); err != nil {
			return fmt.Errorf("move %s into place: %w", o, err)
		}
	}
	rec.End = time.Now()
	rec.Seconds = rec.End.Sub(rec.Start).Seconds()
	if err := writeRecord(root, rec); err != nil {
		return fmt.Errorf("write record: %w", err)
	}
	r.clearState(s.Name)
	log.Info("stage done", "seconds", rec.Seconds)
	return nil
}

// LogPath is where a stage's log of its last run is kept: beside its
// first output, or under the runner's directory if that name is taken.
func (r *Runner) LogPath(s *pipeline.Stage) string {
	name := s.Name + ".log"
	if len(s.Outs) > 0 {
		rel := path.Join(path.Dir(s.Outs[0].Path), name)
		taken := false
		for _, t := range append([]*pipeline.Stage{s}, r.Pipeline.Stages...) {
			for _, o := range t.Outs {
				taken = taken || o.Path == rel || strings.HasPrefix(rel, o.Path+"/")
			}
		}
		if !taken {
			return filepath.Join(r.Root(), filepath.FromSlash(rel))
		}
	}
	return filepath.Join(r.Root(), internalDir, "logs", name)
}

// knownOuts fills pl with the recorded outputs of s's deps that are
// still on disk unchanged, so that their hashes need not be recomputed.
func (r *Runner) knownOuts(pl *planner, s *pipeline.Stage) error {
	for _, dep := range s.Deps {
		rec, err := readRecord(pl.root, dep)
		if err != nil {
			return err
		}
		if rec != nil {
			pl.verifyOuts(r.Pipeline.Stage(dep), rec)
		}
	}
	return nil
}

// clearState removes a stage's checkpoints once it has succeeded.
func (r *Runner) clearState(stage string) {
	dirs, _ := filepath.Glob(filepath.Join(r.Root(), internalDir, "state", stage+"-*"))
	for _, d := range dirs {
		_ = os.RemoveAll(d)
	}
}
