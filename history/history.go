// Package history keeps a record of every pipeline run under the artifacts
// root: one JSON file per run in runs/<id>.json, and runs/runs.arrow, a
// table of all runs (one row each) for notebooks and dashboards.
//
// Run IDs start with the run's UTC start time, so they sort in time order:
// "20261129T221500Z-a3f9". A run is referred to by its full ID, a unique
// prefix of it, "latest", or "latest~N" (the Nth run before the latest).
package history

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/siamese-pipeline/siamese/internal/atomicfile"
	"github.com/siamese-pipeline/siamese/internal/idref"
)

// Dir is the directory under the artifacts root that holds the records.
const Dir = "runs"

// TableFile is the name of the table of all runs in Dir.
const TableFile = "runs.arrow"

// Outcomes of a run.
const (
	OK         = "ok"
	Failed     = "failed"
	GateFailed = "gate failed"
)

// Run is the record of one pipeline run.
type Run struct {
	ID         string // sortable and unique: UTC start time + 4 random hex digits
	Start, End time.Time
	Program    string                    // program version
	Pipeline   string                    // fingerprint of the pipeline, as the caller computes it
	Params     map[string]map[string]any // stage → param → value
	Stages     []Stage                   // in dependency order
	Metrics    map[string]float64        // evaluation metrics
	Outcome    string                    // OK, Failed or GateFailed
	Gate       []Check                   // quality-gate results, if any
	Error      string                    // the run's error, if any
	// File is the pipeline file's absolute path; Dataset what the run's
	// model learned from; Baseline the run whose metrics the gate's
	// max_drop compared with. Records made before these were kept lack them.
	File     string
	Dataset  *Dataset
	Baseline string
	// Sweep and Variant name the sweep and its variant the run was made
	// for ("" for a run of its own).
	Sweep, Variant string
}

// Stage is one stage's part in a run.
type Stage struct {
	Name, Outcome, Reason, Error string
	Seconds                      float64
}

// Check is the result of one quality-gate threshold.
type Check struct {
	Metric, Rule string
	Value        float64
	Pass         bool
	Message      string
}

// Seconds is the run's duration in seconds.
func (r *Run) Seconds() float64 { return r.End.Sub(r.Start).Seconds() }

// NewID returns a new run ID for a run started at start: its UTC time to the
// second and 4 random hex digits.
func NewID(start time.Time) string {
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; fall back to
		// the clock's nanoseconds all the same.
		n := time.Now().UnixNano()
		b[0], b[1] = byte(n>>8), byte(n)
	}
	return start.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// validID accepts the IDs NewID makes and other plain names, but nothing
// that could escape the runs directory or hide as a temporary file.
var validID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func checkID(id string) error {
	if !validID.MatchString(id) || strings.HasPrefix(id, "latest") {
		return fmt.Errorf("history: invalid run id %q", id)
	}
	return nil
}

// Append records a run: it writes root/runs/<id>.json (a temporary file
// renamed into place) and rewrites root/runs/runs.arrow with all runs. A run
// without an ID gets one from NewID(r.Start). An existing record with the
// same ID is an error.
func Append(root string, r *Run) error {
	if r == nil {
		return errors.New("history: nil run")
	}
	if r.ID == "" {
		r.ID = NewID(r.Start)
	}
	if err := checkID(r.ID); err != nil {
		return err
	}
	dir := filepath.Join(root, Dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("history: run %s: %w", r.ID, err)
	}
	path := filepath.Join(dir, r.ID+".json")
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("history: run %s is already recorded", r.ID)
	}
	if err := atomicfile.WriteFile(path, append(data, '\n')); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	runs, err := List(root)
	if err != nil {
		return fmt.Errorf("history: run %s recorded, but %s not updated: %w", r.ID, TableFile, err)
	}
	if err := writeTable(filepath.Join(dir, TableFile), runs); err != nil {
		return fmt.Errorf("history: run %s recorded, but %w", r.ID, err)
	}
	return nil
}

// List returns all recorded runs, oldest first (by start time, then ID). A
// missing runs directory means no runs. A record that cannot be read
// (truncated, garbled, or holding another run) is left out; Damaged says
// which.
func List(root string) ([]*Run, error) {
	runs, _, err := Scan(root)
	return runs, err
}

// Scan is List that also returns an error for each record it left out
// because it could not be read, naming the file.
func Scan(root string) ([]*Run, []error, error) {
	dir := filepath.Join(root, Dir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("history: %w", err)
	}
	var runs []*Run
	var damaged []error
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") {
			continue
		}
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("history: %w", err)
		}
		r := new(Run)
		if err := json.Unmarshal(data, r); err != nil {
			damaged = append(damaged, fmt.Errorf("history: %s: %w", path, err))
			continue
		}
		if id := strings.TrimSuffix(name, ".json"); r.ID != id {
			damaged = append(damaged, fmt.Errorf("history: %s: holds run %q, not %q", path, r.ID, id))
			continue
		}
		runs = append(runs, r)
	}
	slices.SortFunc(runs, func(a, b *Run) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return runs, damaged, nil
}

// Find returns the run ref refers to: a full ID, a unique ID prefix,
// "latest", or "latest~N" (N runs before the latest; "latest~0" is the
// latest).
func Find(root, ref string) (*Run, error) {
	runs, err := List(root)
	if err != nil {
		return nil, err
	}
	return find(runs, ref)
}

func find(runs []*Run, ref string) (*Run, error) {
	if ref == "" {
		return nil, errors.New("history: empty run reference")
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("history: no runs recorded (looking for %q)", ref)
	}
	if ref == "latest" || strings.HasPrefix(ref, "latest~") {
		n := 0
		if s, ok := strings.CutPrefix(ref, "latest~"); ok {
			var err error
			n, err = strconv.Atoi(s)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("history: bad run reference %q (want latest~N, N ≥ 0)", ref)
			}
		}
		if n >= len(runs) {
			return nil, fmt.Errorf("history: %s: only %d runs recorded", ref, len(runs))
		}
		return runs[len(runs)-1-n], nil
	}
	matches := idref.Match(runs, ref, func(r *Run) string { return r.ID })
	switch len(matches) {
	case 0:
		return nil, fmt.Errorf("history: no run %q", ref)
	case 1:
		return matches[0], nil
	}
	ids := make([]string, 0, 5)
	for i, r := range matches {
		if i == 4 {
			ids = append(ids, fmt.Sprintf("and %d more", len(matches)-4))
			break
		}
		ids = append(ids, r.ID)
	}
	return nil, fmt.Errorf("history: run prefix %q is ambiguous: %s", ref, strings.Join(ids, ", "))
}

// LastPassed returns the last of runs (oldest first, as List returns them)
// that passed a quality gate: its outcome is OK and its gate was checked.
// Runs made without a gate are no baseline. It returns nil if none did.
func LastPassed(runs []*Run) *Run {
	for i := len(runs) - 1; i >= 0; i-- {
		if runs[i].Outcome == OK && len(runs[i].Gate) > 0 {
			return runs[i]
		}
	}
	return nil
}

// MetricsFromJSON returns the numeric top-level fields of a metrics.json
// document (NaN and ±Inf also as the strings "NaN", "Inf", "-Inf").
func MetricsFromJSON(data []byte) (map[string]float64, error) {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("history: metrics: %w", err)
	}
	m := map[string]float64{}
	for k, v := range doc {
		switch v := v.(type) {
		case float64:
			m[k] = v
		case string:
			if f, ok := specialFloat(v); ok {
				m[k] = f
			}
		}
	}
	return m, nil
}

func specialFloat(s string) (float64, bool) {
	switch s {
	case "NaN", "nan":
		return math.NaN(), true
	case "Inf", "+Inf", "Infinity", "inf":
		return math.Inf(1), true
	case "-Inf", "-Infinity", "-inf":
		return math.Inf(-1), true
	}
	return 0, false
}
