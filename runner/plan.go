package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/siamese-pipeline/siamese/pipeline"
)

// Why a stage runs or not, as plan decides it.
type decision struct {
	stage  *pipeline.Stage
	run    bool
	reason string
	rec    *Record // the stage's record, when it is up to date
}

// planner decides, stage by stage in dependency order, what must run.
// It knows the content hash of every output it has verified so far.
type planner struct {
	root     string
	p        *pipeline.Pipeline
	selected map[string]bool    // stages this run may run
	forced   map[string]bool    // stages this run must run
	runs     map[string]bool    // stages planned to run
	outs     map[string]File    // verified outputs by path
	touched  map[string]*Record // records whose outputs' mtimes changed, not their contents
	// described, if not nil, gets the sources checkSources described, by
	// stage: the runner hands a stage that runs its own (Env.Track).
	described map[string][]File
}

// decide plans one stage. Its deps must have been decided.
func (pl *planner) decide(s *pipeline.Stage) (decision, error) {
	d := decision{stage: s}
	rec, err := readRecord(pl.root, s.Name)
	if err != nil {
		return d, fmt.Errorf("stage %s: read record: %w", s.Name, err)
	}
	outsOK, outReason := pl.verifyOuts(s, rec)
	if pl.p.Off(s) {
		d.reason = pipeline.OffReason
	}
	if !pl.selected[s.Name] {
		return d, nil
	}
	run := func(reason string) (decision, error) {
		d.run, d.reason = true, reason
		pl.runs[s.Name] = true
		return d, nil
	}
	if pl.forced[s.Name] {
		return run("forced")
	}
	if rec == nil {
		return run("never run")
	}
	for _, dep := range s.Deps {
		if pl.runs[dep] {
			return run("upstream stage " + dep + " runs")
		}
	}
	deps, err := pl.depFiles(s)
	if err != nil {
		return d, err
	}
	if fp := fingerprint(s, deps); fp != rec.Fingerprint {
		return run(staleReason(s, rec, deps))
	}
	if reason := pl.checkSources(rec); reason != "" {
		return run(reason)
	}
	if !outsOK {
		return run(outReason)
	}
	d.rec = rec
	return d, nil
}

// verifyOuts checks a stage's outputs against its record and, where they
// are unchanged, remembers their hashes for the stages downstream.
func (pl *planner) verifyOuts(s *pipeline.Stage, rec *Record) (bool, string) {
	if rec == nil {
		return false, "never run"
	}
	byPath := map[string]*File{}
	for i := range rec.Outs {
		byPath[rec.Outs[i].Path] = &rec.Outs[i]
	}
	for _, o := range s.Outs {
		old := byPath[o.Path]
		if old == nil {
			return false, "output " + o.String() + " is new"
		}
		cur, err := describeFile(filepath.Join(pl.root, filepath.FromSlash(o.Path)), o.Path, old)
		if errors.Is(err, fs.ErrNotExist) {
			return false, "output " + o.String() + " is missing"
		}
		if err != nil || !sameContent(cur, *old) {
			return false, "output " + o.String() + " changed"
		}
		if !sameStat(cur, *old) {
			// Touched, not changed: remember the new mtimes so that the
			// next run need not read the file again.
			*old = cur
			pl.touched[s.Name] = rec
		}
		pl.outs[o.Path] = cur
	}
	return true, ""
}

// depFiles describes a stage's inputs, in the order its Spec lists them.
func (pl *planner) depFiles(s *pipeline.Stage) ([]File, error) {
	var files []File
	refs := s.Inputs
	for _, name := range s.Spec.Inputs {
		f, err := pl.depFile(s, refs[name])
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// checkInputs makes sure that the inputs a running stage takes from deps
// that this run does not run are on disk; the first missing one, in the
// order its Spec lists them, is the error.
func (pl *planner) checkInputs(s *pipeline.Stage) error {
	for _, name := range s.Spec.Inputs {
		if ref := s.Inputs[name]; !pl.runs[ref.Dep] {
			if _, err := pl.depFile(s, ref); err != nil {
				return err
			}
		}
	}
	return nil
}

// depFile describes one input: from the verified outputs of its dep or,
// for a dep whose record is gone or stale, from the file on disk as it is.
func (pl *planner) depFile(s *pipeline.Stage, ref pipeline.Input) (File, error) {
	f, ok := pl.outs[ref.Out.Path]
	if !ok {
		full := filepath.Join(pl.root, filepath.FromSlash(ref.Out.Path))
		var err error
		f, err = describeFile(full, ref.Out.Path, nil)
		if errors.Is(err, fs.ErrNotExist) {
			return File{}, &MissingInputError{Stage: s.Name, Input: ref.Out.String(), Dep: ref.Dep}
		}
		if err != nil {
			return File{}, fmt.Errorf("stage %s: input %s: %w", s.Name, ref.Out, err)
		}
		pl.outs[ref.Out.Path] = f
	}
	f.MTime = 0 // inputs are identified by content alone
	return f, nil
}

// MissingInputError says a stage cannot run because an input is missing.
type MissingInputError struct {
	Stage, Input, Dep string
}

func (e *MissingInputError) Error() string {
	return fmt.Sprintf("stage %s needs %s from stage %s, which is missing; run %s first (siamese run --only %s)",
		e.Stage, e.Input, e.Dep, e.Dep, e.Dep)
}

// fingerprint hashes what determines a stage's outputs: its name and
// implementation, its code version, its params and its inputs' contents.
func fingerprint(s *pipeline.Stage, deps []File) string {
	type input struct{ Path, Hash string }
	v := struct {
		Name, Uses, Version string
		Params              pipeline.Params
		Inputs              []input
	}{s.Name, s.Uses, s.Spec.Version, s.Params, nil}
	for _, f := range deps {
		v.Inputs = append(v.Inputs, input{f.Path, f.Hash})
	}
	data, _ := json.Marshal(v) // maps marshal with sorted keys
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// staleReason says in words why a stage's fingerprint no longer matches.
func staleReason(s *pipeline.Stage, rec *Record, deps []File) string {
	if rec.Version != s.Spec.Version {
		return fmt.Sprintf("code version changed (%s → %s)", rec.Version, s.Spec.Version)
	}
	var changed []string
	for _, name := range s.Params.Names() {
		now, _ := json.Marshal(s.Params[name])
		was, _ := json.Marshal(rec.Params[name])
		if string(now) != string(was) {
			changed = append(changed, fmt.Sprintf("%s %s → %s", name, was, now))
		}
	}
	if len(changed) > 0 {
		return "params changed: " + strings.Join(changed, ", ")
	}
	for _, f := range deps {
		i := slices.IndexFunc(rec.Deps, func(g File) bool { return g.Path == f.Path })
		if i < 0 || rec.Deps[i].Hash != f.Hash {
			return "input " + f.Path + " changed"
		}
	}
	return "fingerprint changed"
}
