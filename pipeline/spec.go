package pipeline

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Spec is what a stage implementation declares about itself.
type Spec struct {
	// Version names the revision of the stage's code. Change it whenever
	// the code would write different outputs for the same inputs.
	Version string
	// Params lists the params the stage accepts, with their defaults.
	Params []Param
	// Inputs are the base names of the files (or directories, ending in
	// "/") the stage reads; each must be an out of exactly one direct dep.
	Inputs []string
	// Outputs are the base names of the files (or directories, ending in
	// "/") the stage writes; pipeline.yaml places each under the root.
	Outputs []string
	// NotebookArrays marks a stage whose every output is a copy, for
	// readers outside the pipeline, of data other outputs already hold
	// (the notebook's arrays). No stage may read them, and a pipeline's
	// notebook_arrays: false turns such stages off.
	NotebookArrays bool
	// Metrics, if set, names the output that holds the stage's metrics: a
	// JSON object whose numeric top-level fields the runner reports.
	Metrics string
	// Check, if set, checks rules across params (each param's own range
	// is its Param's). The pipeline file and --set are checked with it
	// before anything runs.
	Check func(Params) error
	// Preflight, if set, checks what the params point at outside the
	// pipeline (a folder of data: there, readable, laid out as the stage
	// reads it). The runner calls it for each stage about to run, before
	// any runs, on a run, a dry run and status alike.
	Preflight func(Params) error
	// Resources, if set, estimates the stage's output sizes and peak
	// memory from its params and its inputs' sizes (see Need).
	Resources func(p Params, in Sizes) Need
}

// Param declares one param. Its type is the type of Default, one of int,
// float64, string, bool or []int.
type Param struct {
	Name    string
	Default any
	Doc     string
	// Range bounds a number, or each number of a list, in interval
	// notation: "[1, 100]", "(0, 1)", "[0, )". Empty: any value.
	Range string
	// Choices, if set, are the values a string param may take.
	Choices []string
}

// Catalog finds the Spec of a stage implementation by name.
type Catalog interface {
	Spec(uses string) (Spec, bool)
}

func (s Spec) param(name string) (Param, bool) {
	for _, p := range s.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

func (s Spec) paramNames() []string {
	names := make([]string, len(s.Params))
	for i, p := range s.Params {
		names[i] = p.Name
	}
	slices.Sort(names)
	return names
}

// Out is a path under the artifacts root that a stage writes.
type Out struct {
	// Path is slash-separated, cleaned and relative to the root.
	Path string
	// Dir is set when the out is a directory (written "dir/" in the file).
	Dir bool
}

// Name is the out's base name as stages refer to it: "images.npy", "model/".
func (o Out) Name() string {
	if o.Dir {
		return path.Base(o.Path) + "/"
	}
	return path.Base(o.Path)
}

func (o Out) String() string {
	if o.Dir {
		return o.Path + "/"
	}
	return o.Path
}

// contains reports whether o is p or a directory above p.
func (o Out) contains(p Out) bool {
	return o.Path == p.Path || (o.Dir && strings.HasPrefix(p.Path, o.Path+"/"))
}

// Error is a mistake in a pipeline file, at a line of it.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}
