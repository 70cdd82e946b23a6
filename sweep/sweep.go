package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/siamese-pipeline/siamese/internal/atomicfile"
	"github.com/siamese-pipeline/siamese/runner"
)

// Dir is the directory under the artifacts root that holds the sweeps:
// Dir/<name>/ each (sweep.json, variants/<id>/ the variants' roots), and
// Dir/.store the stage outputs they share.
const Dir = "sweeps"

// StateFile is a sweep's state in its directory.
const StateFile = "sweep.json"

// What became of a variant.
const (
	Pending     = "pending"     // not run yet, or cut short
	Done        = "done"        // ran, and its run was recorded
	Failed      = "failed"      // a stage failed: the variant's run records why
	Interrupted = "interrupted" // cancelled; the next sweep finishes it
	Submitted   = "submitted"   // its jobs were submitted detached; its last job records it
)

// State is what a sweep keeps in sweep.json: its grid and each variant.
type State struct {
	Name     string     `json:"name"`
	Pipeline string     `json:"pipeline"`
	Axes     []Axis     `json:"axes"`
	Variants []*Variant `json:"variants"`
}

// Variant is one point of the grid.
type Variant struct {
	ID     string   `json:"id"`
	Sets   []string `json:"sets"` // one stage.param=value per axis
	Status string   `json:"status"`
	Run    string   `json:"run,omitempty"` // its run's id in the history
	Error  string   `json:"error,omitempty"`
	// Metrics are its run's metrics and its validation metrics (finite
	// values only).
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// Value returns the value the variant gives param, as written, or "".
func (v *Variant) Value(param string) string {
	for _, s := range v.Sets {
		if p, val, _ := strings.Cut(s, "="); p == param {
			return val
		}
	}
	return ""
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// CheckName refuses a sweep name that is not a plain directory name.
func CheckName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("sweep name %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", name)
	}
	return nil
}

// Path is the directory of the sweep name under the artifacts root home.
func Path(home, name string) string { return filepath.Join(home, Dir, name) }

// VariantRoot is the artifacts root of a variant of the sweep in dir.
func VariantRoot(dir, id string) string { return filepath.Join(dir, "variants", id) }

// StoreDir is where the sweeps under home share stage outputs.
func StoreDir(home string) string { return filepath.Join(home, Dir, ".store") }

// ReadState reads a sweep's state; a sweep never run is an error that
// wraps fs.ErrNotExist.
func ReadState(dir string) (*State, error) {
	data, err := os.ReadFile(filepath.Join(dir, StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no sweep in %s: %w", dir, err)
	}
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, StateFile), err)
	}
	return &st, nil
}

// Update changes a sweep's state on disk under its state lock, which
// the sweep and the jobs that record its detached variants take in turn:
// fn gets the state as it is now (nil if none) and returns it as it is
// to be.
func Update(ctx context.Context, dir string, fn func(*State) (*State, error)) error {
	release, err := LockWait(ctx, filepath.Join(dir, "state.lock"), 0)
	if err != nil {
		return err
	}
	defer release()
	st, err := ReadState(dir)
	if errors.Is(err, fs.ErrNotExist) {
		st, err = nil, nil
	}
	if err != nil {
		return err
	}
	if st, err = fn(st); err != nil {
		return err
	}
	return writeState(dir, st)
}

// Record records what became of a variant whose jobs were submitted
// detached: its run and metrics, or its error.
func Record(ctx context.Context, dir, id string, res Result, runErr error) error {
	return Update(ctx, dir, func(st *State) (*State, error) {
		if st == nil {
			return nil, fmt.Errorf("no sweep in %s", dir)
		}
		for _, v := range st.Variants {
			if v.ID == id {
				setResult(v, res, runErr, false)
				return st, nil
			}
		}
		return nil, fmt.Errorf("sweep %s has no variant %s", st.Name, id)
	})
}

// setResult sets a variant's status, run, metrics and error from how its
// run ended; cancelled says the sweep was cancelled.
func setResult(v *Variant, res Result, err error, cancelled bool) {
	v.Run, v.Metrics, v.Error = res.Run, finite(res.Metrics), ""
	switch {
	case err == nil && res.Submitted:
		v.Status = Submitted
	case err == nil:
		v.Status = Done
	case cancelled || errors.As(err, new(*runner.InterruptedError)):
		v.Status = Interrupted
	default:
		v.Status, v.Error = Failed, err.Error()
	}
}

func writeState(dir string, st *State) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, StateFile), append(data, '\n'))
}

// BusyError says that another sweep of the same name is running.
type BusyError struct {
	Name string
	PID  int
	Jobs bool // the cluster jobs of a detached sweep, not a process
}

func (e *BusyError) Error() string {
	if e.Jobs {
		return fmt.Sprintf("sweep %s is running already: the cluster jobs of its detached variants run (siamese sweep show %s)", e.Name, e.Name)
	}
	return fmt.Sprintf("sweep %s is running already (pid %d); wait for it, or stop it", e.Name, e.PID)
}

// FailedError says which variants failed; the others finished.
type FailedError struct{ Variants []*Variant }

func (e *FailedError) Error() string {
	var msgs []string
	for _, v := range e.Variants {
		msgs = append(msgs, fmt.Sprintf("%s (%s): %s", v.ID, strings.Join(v.Sets, " "), v.Error))
	}
	return fmt.Sprintf("%d variant(s) failed: %s", len(e.Variants), strings.Join(msgs, "; "))
}

// Result is what a variant's run gives the sweep.
type Result struct {
	Run     string
	Metrics map[string]float64
	// Submitted says the variant's jobs were submitted detached: its
	// last job records it (Record).
	Submitted bool
}

// Sweep runs the variants of a grid, Jobs at a time.
type Sweep struct {
	Name     string
	Home     string // the artifacts root the sweep belongs to
	Pipeline string // the pipeline file, for the state
	Axes     []Axis
	Jobs     int
	// Run runs a variant into root, as a run of the pipeline with the
	// variant's sets, and records it. It is called at most Jobs at a
	// time.
	Run func(ctx context.Context, v *Variant, root string) (Result, error)
	// Current says whether a variant's root is up to date (nothing would
	// run); a variant done before and current is not run again. Nil:
	// done variants are not run again.
	Current func(ctx context.Context, v *Variant, root string) (bool, error)
	// Running says whether cluster jobs that an earlier sweep submitted
	// for a variant (detached, or left by a killed sweep) still run; nil:
	// none do.
	Running func(ctx context.Context, v *Variant, root string) (bool, error)
	Log     *slog.Logger
}

// Execute runs every variant that is not done, holding the sweep's lock
// throughout. It returns the sweep's state, a *FailedError naming the
// variants that failed (the others ran), or, once ctx is done, a
// *runner.InterruptedError.
func (s *Sweep) Execute(ctx context.Context) (*State, error) {
	if err := CheckName(s.Name); err != nil {
		return nil, err
	}
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir := Path(s.Home, s.Name)
	release, err := runner.LockFile(filepath.Join(dir, "lock"))
	var lerr *runner.LockError
	if errors.As(err, &lerr) {
		return nil, &BusyError{Name: s.Name, PID: lerr.PID}
	}
	if err != nil {
		return nil, err
	}
	defer release()
	grid, err := Expand(s.Axes)
	if err != nil {
		return nil, err
	}
	st := &State{Name: s.Name, Pipeline: s.Pipeline, Axes: s.Axes}
	var todo []*Variant
	err = Update(ctx, dir, func(prev *State) (*State, error) {
		todo = nil
		return st, s.plan(ctx, dir, grid, prev, st, &todo)
	})
	if err != nil {
		return nil, err
	}
	log.Info("sweep", "name", s.Name, "variants", len(st.Variants), "to run", len(todo), "jobs", max(s.Jobs, 1))

	var (
		mu   sync.Mutex
		werr error
		wg   sync.WaitGroup
	)
	slots := make(chan struct{}, max(s.Jobs, 1))
	for _, v := range todo {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			res, err := s.Run(ctx, v, VariantRoot(dir, v.ID))
			mu.Lock()
			defer mu.Unlock()
			setResult(v, res, err, ctx.Err() != nil)
			switch v.Status {
			case Failed:
				log.Error("variant failed", "variant", v.ID, "sets", strings.Join(v.Sets, " "), "err", err)
			case Done:
				log.Info("variant done", "variant", v.ID, "sets", strings.Join(v.Sets, " "), "run", v.Run)
			}
			werr = errors.Join(werr, Update(context.WithoutCancel(ctx), dir, func(now *State) (*State, error) {
				for i, w := range now.Variants {
					if w.ID == v.ID && w.Status != Done && w.Status != Failed { // not recorded by its last job yet
						c := *v
						now.Variants[i] = &c
					}
				}
				return now, nil
			}))
		}()
	}
	wg.Wait()
	if werr != nil {
		return st, fmt.Errorf("sweep state: %w", werr)
	}
	if ctx.Err() != nil {
		var left []string
		for _, v := range st.Variants {
			if v.Status != Done && v.Status != Failed {
				left = append(left, v.ID)
			}
		}
		note := fmt.Sprintf("%d variant(s) will run on the next sweep %s", len(left), s.Name)
		return st, &runner.InterruptedError{Cause: context.Cause(ctx), Notes: []string{note}}
	}
	var failed []*Variant
	for _, v := range st.Variants {
		if v.Status == Failed {
			failed = append(failed, v)
		}
	}
	if len(failed) > 0 {
		return st, &FailedError{Variants: failed}
	}
	return st, nil
}

// plan fills st with the grid's variants, keeping those of prev that are
// done and still current, and lists in todo those to run. A variant whose
// jobs still run on a cluster makes the sweep busy.
func (s *Sweep) plan(ctx context.Context, dir string, grid [][]string, prev, st *State, todo *[]*Variant) error {
	old := map[string]*Variant{}
	if prev != nil {
		for _, v := range prev.Variants {
			old[v.ID] = v
		}
	}
	for _, sets := range grid {
		v := &Variant{ID: VariantID(sets), Sets: sets, Status: Pending}
		o := old[v.ID]
		if o != nil && o.Status != Done && s.Running != nil {
			running, err := s.Running(ctx, o, VariantRoot(dir, v.ID))
			if err != nil {
				return err
			}
			if running {
				return &BusyError{Name: s.Name, Jobs: true}
			}
		}
		if o != nil && o.Status == Done {
			current := true
			if s.Current != nil {
				var err error
				if current, err = s.Current(ctx, o, VariantRoot(dir, v.ID)); err != nil {
					return err
				}
			}
			if current {
				v = o
			}
		}
		st.Variants = append(st.Variants, v)
		if v.Status != Done {
			*todo = append(*todo, v)
		}
	}
	return nil
}

// finite drops the NaN and infinite values, which JSON cannot hold.
func finite(m map[string]float64) map[string]float64 {
	if m == nil {
		return nil
	}
	out := make(map[string]float64, len(m))
	for k, v := range m {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out[k] = v
		}
	}
	return out
}
