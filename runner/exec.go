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
//
// With a Share, a stage whose outputs another root has made with the same
// fingerprint takes them instead of running: it returns Reused.
func (r *Runner) runStage(ctx context.Context, s *pipeline.Stage, reason string) (Outcome, error) {
	impl := r.Stages[s.Uses]
	if impl == nil {
		return Failed, fmt.Errorf("no implementation %q", s.Uses)
	}
	deps, err := r.depFiles(s)
	if err != nil {
		return Failed, fmt.Errorf("inputs: %w", err)
	}
	fp := fingerprint(s, deps)
	shared, release, err := r.claim(ctx, s, fp)
	if err != nil {
		return Failed, err
	}
	defer release()
	tmp, outputs, err := r.prepare(s)
	if err != nil {
		return Failed, fmt.Errorf("prepare outputs: %w", err)
	}
	defer os.RemoveAll(tmp)
	logFile, err := os.Create(r.LogPath(s))
	if err != nil {
		return Failed, fmt.Errorf("stage log: %w", err)
	}
	defer logFile.Close()
	newHandler := r.LogHandler
	if newHandler == nil {
		newHandler = func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) }
	}
	log := slog.New(slog.NewMultiHandler(r.log().Handler(), newHandler(logFile))).With("stage", s.Name)

	inputs := map[string]string{}
	for name, ref := range s.Inputs {
		inputs[name] = filepath.Join(r.Root(), filepath.FromSlash(ref.Out.Path))
	}
	env := &Env{Stage: s.Name, Params: s.Params, Log: log, inputs: inputs, outputs: outputs,
		stateDir: filepath.Join(r.Root(), internalDir, "state", s.Name+"-"+fp[len("sha256:"):][:16]),
		cacheDir: filepath.Join(r.Root(), internalDir, "cache", s.Name)}
	if f, ok := r.described.LoadAndDelete(s.Name); ok {
		env.fresh = f.([]File) // as this run's plan described them: Track takes them as they are
	} else if last, err := readRecord(r.Root(), s.Name); err == nil && last != nil {
		env.previous = last.Sources // Track rehashes only what changed since
	}
	rec := &Record{Stage: s.Name, Uses: s.Uses, Version: s.Spec.Version, Fingerprint: fp,
		Params: s.Params, Deps: deps, Program: r.Program, Start: time.Now()}
	if shared != nil {
		known, err := adopt(s, shared, outputs)
		if err == nil {
			rec.Sources, rec.SharedFrom = shared.Record.Sources, shared.From
			if err := r.commit(s, outputs, rec, known, log); err != nil {
				return Failed, stageFailed(ctx, log, newHandler(logFile), s.Name, err)
			}
			log.Info("stage shared: outputs taken from another root, made with the same fingerprint", "from", shared.From)
			return Reused, nil
		}
		// The stage runs after all, into fresh paths: it must not write
		// through a link into the shared files.
		log.Warn("shared outputs could not be taken; the stage runs", "err", err)
		if tmp, outputs, err = r.prepare(s); err != nil {
			return Failed, fmt.Errorf("prepare outputs: %w", err)
		}
		defer os.RemoveAll(tmp)
		env.outputs = outputs
	}
	log.Info("stage running", "reason", reason)
	if err := runSafely(ctx, impl, env); err != nil {
		return Failed, stageFailed(ctx, log, newHandler(logFile), s.Name, err)
	}
	if err := ctx.Err(); err != nil {
		return Failed, stageFailed(ctx, log, newHandler(logFile), s.Name, err)
	}
	rec.Sources = env.sources()
	if err := r.commit(s, outputs, rec, nil, log); err != nil {
		return Failed, stageFailed(ctx, log, newHandler(logFile), s.Name, err)
	}
	r.clearState(s.Name)
	log.Info("stage done", "seconds", rec.Seconds)
	if r.Share != nil {
		if err := r.Share.Keep(r.Root(), rec); err != nil {
			log.Warn("outputs not shared with other roots", "err", err)
		}
	}
	return Ran, nil
}

// depFiles describes a stage's inputs as they are now on disk: the deps
// that ran in this run have moved theirs into place.
func (r *Runner) depFiles(s *pipeline.Stage) ([]File, error) {
	pl := &planner{root: r.Root(), p: r.Pipeline, outs: map[string]File{}, touched: map[string]*Record{}}
	for _, dep := range s.Deps {
		rec, err := readRecord(pl.root, dep)
		if err != nil {
			return nil, err
		}
		if rec != nil {
			pl.verifyOuts(r.Pipeline.Stage(dep), rec) // reuses the hashes of unchanged files
		}
	}
	return pl.depFiles(s)
}

// prepare makes a temporary directory for a stage's outputs, and the
// directory of its log. It returns the temporary directory and the path
// each output is to be written to.
func (r *Runner) prepare(s *pipeline.Stage) (string, map[string]string, error) {
	tmpRoot := filepath.Join(r.Root(), internalDir, "tmp")
	if err := os.MkdirAll(tmpRoot, 0o755); err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(filepath.Dir(r.LogPath(s)), 0o755); err != nil {
		return "", nil, err
	}
	tmp, err := os.MkdirTemp(tmpRoot, s.Name+"-")
	if err != nil {
		return "", nil, err
	}
	outputs := map[string]string{}
	for _, o := range s.Outs {
		p := filepath.Join(tmp, filepath.FromSlash(o.Path))
		dir := filepath.Dir(p)
		if o.Dir {
			dir = p
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			os.RemoveAll(tmp)
			return "", nil, err
		}
		outputs[o.Name()] = p
	}
	return tmp, outputs, nil
}

// commit hashes a stage's new outputs, moves them into place and then
// writes the stage's record. known describes outputs, by path, whose
// hashes need not be read again while their sizes and mtimes match.
func (r *Runner) commit(s *pipeline.Stage, outputs map[string]string, rec *Record, known map[string]*File, log *slog.Logger) error {
	for _, o := range s.Outs {
		f, err := describeFile(outputs[o.Name()], o.Path, known[o.Path])
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("stage wrote no %s", o)
		}
		if err != nil {
			return fmt.Errorf("hash %s: %w", o, err)
		}
		rec.Outs = append(rec.Outs, f)
	}
	synced := time.Now()
	n, err := syncTree(s.Outs, outputs)
	if err != nil {
		return fmt.Errorf("sync outputs: %w", err)
	}
	syncSeconds := time.Since(synced).Seconds()
	// From here on a crash leaves no record, so the next run redoes the stage.
	if err := removeRecord(r.Root(), s.Name); err != nil {
		return fmt.Errorf("remove old record: %w", err)
	}
	for _, o := range s.Outs {
		final := filepath.Join(r.Root(), filepath.FromSlash(o.Path))
		if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
			return fmt.Errorf("move %s into place: %w", o, err)
		}
		if err := os.RemoveAll(final); err != nil {
			return fmt.Errorf("move %s into place: %w", o, err)
		}
		if err := os.Rename(outputs[o.Name()], final); err != nil {
			return fmt.Errorf("move %s into place: %w", o, err)
		}
		testHookCommit(s.Name, o.Path)
	}
	synced = time.Now()
	if err := syncParents(r.Root(), s.Outs); err != nil {
		return fmt.Errorf("sync output directories: %w", err)
	}
	syncSeconds += time.Since(synced).Seconds()
	log.Info("outputs synced to disk", "bytes", n, "sync_seconds", syncSeconds)
	rec.End = time.Now()
	rec.Seconds = rec.End.Sub(rec.Start).Seconds()
	if err := writeRecord(r.Root(), rec); err != nil {
		return fmt.Errorf("write record: %w", err)
	}
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

// clearState removes a stage's checkpoints once it has succeeded.
func (r *Runner) clearState(stage string) {
	dirs, _ := filepath.Glob(filepath.Join(r.Root(), internalDir, "state", stage+"-*"))
	for _, d := range dirs {
		_ = os.RemoveAll(d)
	}
}
