package runner

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/siamese-pipeline/siamese/pipeline"
)

// Stage is the code of one pipeline stage. The runner decides when it runs;
// the stage only turns its inputs into its outputs.
type Stage interface {
	// Spec declares the stage's version, params, inputs and outputs.
	Spec() pipeline.Spec
	// Run reads the inputs and writes every output through env. It should
	// return promptly with ctx's error once ctx is cancelled.
	Run(ctx context.Context, env *Env) error
}

// Registry maps implementation names, as pipeline.yaml's "uses" names
// them, to stages. It is the pipeline.Catalog the file is checked against.
type Registry map[string]Stage

// Spec implements pipeline.Catalog.
func (r Registry) Spec(uses string) (pipeline.Spec, bool) {
	s, ok := r[uses]
	if !ok {
		return pipeline.Spec{}, false
	}
	return s.Spec(), true
}

// Env is what a running stage sees of the world.
type Env struct {
	// Stage is the stage's name in the pipeline file.
	Stage string
	// Params are the stage's params, typed and with defaults filled in.
	Params pipeline.Params
	// Log is the stage's logger.
	Log *slog.Logger

	inputs   map[string]string // input name → path
	outputs  map[string]string // output name → path in the temporary directory
	stateDir string
	cacheDir string
	tracked  tracked // sources reported with Track
	previous []File  // the sources of the stage's last successful run
	fresh    []File  // the sources as this run's plan described them
}

// In returns the path of the input the stage's Spec names name.
func (e *Env) In(name string) string {
	if p, ok := e.inputs[name]; ok {
		return p
	}
	return filepath.Join(os.DevNull, "undeclared-input", name)
}

// Out returns the path to write the output the stage's Spec names name.
// Its directory exists; a directory output ("model/") exists and is empty.
// The runner moves outputs into place once Run succeeds.
func (e *Env) Out(name string) string {
	if p, ok := e.outputs[name]; ok {
		return p
	}
	return filepath.Join(os.DevNull, "undeclared-output", name)
}

// StateDir returns a directory that survives a failed or killed run of the
// stage with the same fingerprint, for checkpoints. The runner removes it
// once the stage succeeds.
func (e *Env) StateDir() (string, error) {
	if err := os.MkdirAll(e.stateDir, 0o755); err != nil {
		return "", err
	}
	return e.stateDir, nil
}

// CacheDir returns a directory of the stage's own that survives its runs,
// successful or not, for caches that spare work (a folder's decoded
// images). Nothing in it may change a stage's outputs: a stage writes the
// same outputs whether its cache is there, empty or damaged. `siamese
// clean` removes it.
func (e *Env) CacheDir() (string, error) {
	dir := e.cacheDir
	if dir == "" {
		dir = filepath.Join(e.stateDir, "cache")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

// NewEnv makes an Env for running a stage outside the runner, as tests do:
// inputs and outputs map names to paths.
func NewEnv(stage string, params pipeline.Params, inputs, outputs map[string]string, stateDir string, log *slog.Logger) *Env {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Env{Stage: stage, Params: params, Log: log, inputs: inputs, outputs: outputs, stateDir: stateDir}
}
