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
}

func (e *BusyError) Error() string {
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
	old := map[string]*Variant{}
	if prev, err := ReadState(dir); err == nil {
		for _, v := range prev.Variants {
			old[v.ID] = v
		}
	}
	st := &State{Name: s.Name, Pipeline: s.Pipeline, Axes: s.Axes}
	var todo []*Variant
	for _, sets := range grid {
		v := &Variant{ID: VariantID(sets), Sets: sets, Status: Pending}
		if o := old[v.ID]; o != nil && o.Status == Done {
			current := true
			if s.Current != nil {
				if current, err = s.Current(ctx, o, VariantRoot(dir, v.ID)); err != nil {
					return nil, err
				}
			}
			if current {
				v = o
			}
		}
		st.Variants = append(st.Variants, v)
		if v.Status != Done {
			todo = append(todo, v)
		}
	}
	if err := writeState(dir, st); err != nil {
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
			v.Run, v.Metrics, v.Error = res.Run, finite(res.Metrics), ""
			switch {
			case err == nil:
				v.Status = Done
			case ctx.Err() != nil:
				v.Status = Interrupted
			default:
				v.Status, v.Error = Failed, err.Error()
				log.Error("variant failed", "variant", v.ID, "sets", strings.Join(v.Sets, " "), "err", err)
			}
			if v.Status == Done {
				log.Info("variant done", "variant", v.ID, "sets", strings.Join(v.Sets, " "), "run", v.Run)
			}
			werr = errors.Join(werr, writeState(dir, st))
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
