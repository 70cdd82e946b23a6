package pipeline

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DefaultRoot is the artifacts root when pipeline.yaml names none.
const DefaultRoot = "out"

// Internal is the directory under the root that holds the runner's own
// records, lock and temporary files; no out may be written there.
const Internal = ".siamese"

// Pipeline is a checked pipeline file.
type Pipeline struct {
	// File is the path the pipeline was read from.
	File string
	// Root is the artifacts root: as written in the file, resolved
	// against the file's directory, or as overridden by Load.
	Root string
	// Stages are in dependency order: every stage after its deps, and
	// otherwise in the order of the file.
	Stages []*Stage
	// Gate holds the quality thresholds checked after a run, if any.
	Gate []Threshold
	// Executor runs the stages: "local" (the default) or "slurm".
	Executor string
	// Slurm says where the Slurm executor submits its jobs.
	Slurm Slurm
	// Models configures the promoted models; Monitoring where the last
	// run is reported.
	Models     Models
	Monitoring Monitoring
	// NotebookArrays says whether the stages that write the notebook's
	// arrays (Spec.NotebookArrays) run: the file's notebook_arrays, true
	// unless it says false.
	NotebookArrays bool
	// Sweep is the grid that "siamese sweep" runs when given no --set
	// (pipeline/sweep.go); a run ignores it.
	Sweep []SweepAxis

	byName map[string]*Stage
}

// Stage is one stage of a pipeline file.
type Stage struct {
	Name   string
	Uses   string // the implementation; the stage's name unless "uses" says otherwise
	Desc   string
	Deps   []string
	Params Params
	Outs   []Out
	Spec   Spec
	Line   int
	// Inputs maps each input the Spec names to the dep out that holds it.
	Inputs map[string]Input
	// Resources are what a run of the stage needs, for the executor.
	Resources Resources

	paramLines map[string]int
	outLines   []int
}

// Input is where a stage's input comes from: an out of one of its deps.
type Input struct {
	Dep string
	Out Out
}

// Stage returns the stage called name, or nil.
func (p *Pipeline) Stage(name string) *Stage { return p.byName[name] }

// Off reports whether s does not run: a stage of notebook arrays when the
// pipeline's notebook_arrays is false. OffReason says so in words.
func (p *Pipeline) Off(s *Stage) bool { return s.Spec.NotebookArrays && !p.NotebookArrays }

// OffReason is why an Off stage does not run.
const OffReason = "off: notebook_arrays is false"

// Load reads and checks a pipeline file. A non-empty root replaces the
// artifacts root the file names.
func Load(file string, cat Catalog, root string) (*Pipeline, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &Error{File: file, Msg: fmt.Sprintf("cannot read: %v", err)}
	}
	p, err := Parse(file, data, cat)
	if err != nil {
		return nil, err
	}
	if root != "" {
		p.Root = root
	}
	if err := p.checkSymlinks(); err != nil {
		return nil, err
	}
	return p, nil
}

var stageName = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// Parse checks the contents of a pipeline file against the stage
// implementations in cat. It touches no files.
func Parse(file string, data []byte, cat Catalog) (*Pipeline, error) {
	fail := func(n *yaml.Node, format string, args ...any) error {
		line := 0
		if n != nil {
			line = n.Line
		}
		return &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if l, rest, ok := strings.Cut(strings.TrimPrefix(msg, "line "), ": "); ok && strings.HasPrefix(msg, "line ") {
			var line int
			if _, err := fmt.Sscan(l, &line); err == nil {
				return nil, &Error{File: file, Line: line, Msg: "invalid YAML: " + rest}
			}
		}
		return nil, fail(nil, "invalid YAML: %s", msg)
	}
	if len(doc.Content) == 0 {
		return nil, fail(nil, "empty file: want a mapping with a 'stages' key")
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fail(top, "want a mapping with a 'stages' key, got %s", describe(top))
	}
	p := &Pipeline{File: file, Root: DefaultRoot, Executor: "local", byName: map[string]*Stage{}, Models: Models{Keep: DefaultKeep},
		NotebookArrays: true}
	var stages *yaml.Node
	err := eachKey(top, fail, func(key, val *yaml.Node) error {
		switch key.Value {
		case "artifacts":
			if val.Kind != yaml.ScalarNode || val.ShortTag() != "!!str" || val.Value == "" {
				return fail(val, "artifacts: want a directory name, got %s", describe(val))
			}
			p.Root = val.Value
		case "stages":
			if val.Kind != yaml.MappingNode {
				return fail(val, "stages: want a mapping of stage names to stages, got %s", describe(val))
			}
			stages = val
		case "gate":
			gate, err := parseGate(val, fail)
			if err != nil {
				return err
			}
			p.Gate = gate
		case "executor":
			e, err := parseExecutor(val, fail)
			p.Executor = e
			return err
		case "slurm":
			sl, err := parseSlurm(val, fail)
			p.Slurm = sl
			return err
		case "models":
			var err error
			if p.Models, err = parseModels(val, fail); err != nil {
				return err
			}
		case "monitoring":
			var err error
			if p.Monitoring, err = parseMonitoring(val, fail); err != nil {
				return err
			}
		case "notebook_arrays":
			if val.Kind != yaml.ScalarNode || val.ShortTag() != "!!bool" || val.Decode(&p.NotebookArrays) != nil {
				return fail(val, "notebook_arrays: want true or false, got %s", describe(val))
			}
		case "sweep":
			var err error
			p.Sweep, err = parseSweep(val, fail)
			return err
		default:
			return fail(key, "unknown key %q (want artifacts, stages, gate, models, monitoring, notebook_arrays, executor, slurm or sweep)", key.Value)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if stages == nil || len(stages.Content) == 0 {
		return nil, fail(top, "no stages: the file needs a 'stages' mapping")
	}
	if !filepath.IsAbs(p.Root) {
		p.Root = filepath.Join(filepath.Dir(file), p.Root)
	}
	var order []*Stage
	err = eachNamed(stages, "stage", fail, func(key, val *yaml.Node) error {
		if !stageName.MatchString(key.Value) {
			return fail(key, "stage name %q: use lower-case letters, digits, '-' and '_', starting with a letter", key.Value)
		}
		s, err := parseStage(key, val, cat, fail)
		if err != nil {
			return err
		}
		p.byName[s.Name] = s
		order = append(order, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := p.link(order, fail); err != nil {
		return nil, err
	}
	if err := p.checkSweep(); err != nil {
		return nil, err
	}
	return p, nil
}

type failFunc func(n *yaml.Node, format string, args ...any) error

// eachKey calls fn for each key of a mapping, refusing duplicate keys.
func eachKey(m *yaml.Node, fail failFunc, fn func(key, val *yaml.Node) error) error {
	return eachNamed(m, "key", fail, fn)
}

// eachNamed is eachKey with the noun its duplicate error uses.
func eachNamed(m *yaml.Node, noun string, fail failFunc, fn func(key, val *yaml.Node) error) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		key, val := m.Content[i], m.Content[i+1]
		if key.Kind != yaml.ScalarNode {
			return fail(key, "want a plain key, got %s", describe(key))
		}
		if line, dup := seen[key.Value]; dup {
			return fail(key, "duplicate %s %q (first at line %d)", noun, key.Value, line)
		}
		seen[key.Value] = key.Line
		if err := fn(key, val); err != nil {
			return err
		}
	}
	return nil
}

func parseStage(key, val *yaml.Node, cat Catalog, fail failFunc) (*Stage, error) {
	s := &Stage{Name: key.Value, Uses: key.Value, Line: key.Line, Params: Params{}, paramLines: map[string]int{}}
	if val.Kind != yaml.MappingNode {
		if val.ShortTag() == "!!null" {
			val = &yaml.Node{Kind: yaml.MappingNode}
		} else {
			return nil, fail(val, "stage %s: want a mapping, got %s", s.Name, describe(val))
		}
	}
	var params, outs *yaml.Node
	err := eachKey(val, fail, func(k, v *yaml.Node) error {
		switch k.Value {
		case "uses", "desc":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
				return fail(v, "stage %s: %s: want a string, got %s", s.Name, k.Value, describe(v))
			}
			if k.Value == "uses" {
				s.Uses = v.Value
			} else {
				s.Desc = v.Value
			}
		case "deps":
			if v.Kind != yaml.SequenceNode {
				return fail(v, "stage %s: deps: want a list of stage names, got %s", s.Name, describe(v))
			}
			for _, d := range v.Content {
				if d.Kind != yaml.ScalarNode || d.ShortTag() != "!!str" {
					return fail(d, "stage %s: deps: want a stage name, got %s", s.Name, describe(d))
				}
				if slices.Contains(s.Deps, d.Value) {
					return fail(d, "stage %s: dep %q listed twice", s.Name, d.Value)
				}
				s.Deps = append(s.Deps, d.Value)
			}
		case "params":
			if v.Kind != yaml.MappingNode {
				return fail(v, "stage %s: params: want a mapping, got %s", s.Name, describe(v))
			}
			params = v
		case "outs":
			if v.Kind != yaml.SequenceNode {
				return fail(v, "stage %s: outs: want a list of paths, got %s", s.Name, describe(v))
			}
			outs = v
		case "resources":
			r, err := parseResources(s.Name, v, fail)
			s.Resources = r
			return err
		default:
			return fail(k, "stage %s: unknown key %q (want uses, desc, deps, params, outs or resources)", s.Name, k.Value)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	spec, ok := cat.Spec(s.Uses)
	if !ok {
		return nil, fail(key, "stage %s: no stage implementation called %q", s.Name, s.Uses)
	}
	s.Spec = spec
	if params != nil {
		err := eachKey(params, fail, func(k, v *yaml.Node) error {
			def, ok := spec.param(k.Value)
			if !ok {
				return fail(k, "stage %s: unknown param %q (known: %s)", s.Name, k.Value, strings.Join(spec.paramNames(), ", "))
			}
			x, err := decodeParam(v, def.Default)
			if err != nil {
				return fail(v, "stage %s: param %s: %v", s.Name, k.Value, err)
			}
			s.Params[k.Value] = x
			s.paramLines[k.Value] = k.Line
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for _, def := range spec.Params {
		if _, set := s.Params[def.Name]; !set {
			s.Params[def.Name] = def.Default
		}
	}
	err = s.checkParams(func(param string, err error) error {
		if line, ok := s.paramLines[param]; ok {
			return fail(&yaml.Node{Line: line}, "stage %s: param %s: %v", s.Name, param, err)
		}
		if param != "" {
			return fail(key, "stage %s: param %s (default): %v", s.Name, param, err)
		}
		return fail(key, "stage %s: params: %v", s.Name, err)
	})
	if err != nil {
		return nil, err
	}
	if outs != nil {
		for _, o := range outs.Content {
			out, err := parseOut(o)
			if err != nil {
				return nil, fail(o, "stage %s: %v", s.Name, err)
			}
			s.Outs = append(s.Outs, out)
			s.outLines = append(s.outLines, o.Line)
		}
	}
	return s, s.checkOuts(key, fail)
}

func parseOut(n *yaml.Node) (Out, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" || n.Value == "" {
		return Out{}, fmt.Errorf("outs: want a path, got %s", describe(n))
	}
	raw := n.Value
	if strings.HasPrefix(raw, "/") || filepath.IsAbs(raw) {
		return Out{}, fmt.Errorf("out %q is an absolute path; outs are relative to the artifacts root", raw)
	}
	clean := path.Clean(raw)
	if clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return Out{}, fmt.Errorf("out %q escapes the artifacts root", raw)
	}
	if clean == Internal || strings.HasPrefix(clean, Internal+"/") {
		return Out{}, fmt.Errorf("out %q is inside %s/, which the runner keeps for itself", raw, Internal)
	}
	return Out{Path: clean, Dir: strings.HasSuffix(raw, "/")}, nil
}

// checkOuts matches the stage's outs with the outputs its Spec declares.
func (s *Stage) checkOuts(key *yaml.Node, fail failFunc) error {
	for i, o := range s.Outs {
		if !slices.Contains(s.Spec.Outputs, o.Name()) {
			return fail(&yaml.Node{Line: s.outLines[i]}, "stage %s: out %s: stage %s does not write %q (it writes %s)",
				s.Name, o, s.Uses, o.Name(), strings.Join(s.Spec.Outputs, ", "))
		}
	}
	for _, name := range s.Spec.Outputs {
		n := 0
		for _, o := range s.Outs {
			if o.Name() == name {
				n++
			}
		}
		if n != 1 {
			return fail(key, "stage %s: outs must name %q exactly once (found %d)", s.Name, name, n)
		}
	}
	return nil
}

// link checks deps, inputs and overlapping outs, and orders the stages.
func (p *Pipeline) link(order []*Stage, fail failFunc) error {
	at := func(line int) *yaml.Node { return &yaml.Node{Line: line} }
	for _, s := range order {
		for _, d := range s.Deps {
			if d == s.Name {
				return fail(at(s.Line), "stage %s depends on itself", s.Name)
			}
			if p.byName[d] == nil {
				return fail(at(s.Line), "stage %s: unknown dep %q", s.Name, d)
			}
		}
		s.Inputs = map[string]Input{}
		for _, in := range s.Spec.Inputs {
			var from []string
			for _, d := range s.Deps {
				for _, o := range p.byName[d].Outs {
					if o.Name() == in {
						from = append(from, d)
						s.Inputs[in] = Input{Dep: d, Out: o}
					}
				}
			}
			if len(from) == 1 && p.byName[from[0]].Spec.NotebookArrays {
				return fail(at(s.Line), "stage %s reads %q, a notebook array of stage %s: notebook_arrays: false turns that stage off, so no stage may read it",
					s.Name, in, from[0])
			}
			switch len(from) {
			case 0:
				return fail(at(s.Line), "stage %s reads %q, but none of its deps (%s) writes it",
					s.Name, in, strings.Join(s.Deps, ", "))
			case 1:
			default:
				return fail(at(s.Line), "stage %s reads %q, which several of its deps write (%s)",
					s.Name, in, strings.Join(from, ", "))
			}
		}
	}
	for i, a := range order {
		for _, b := range order[i:] {
			for ia, oa := range a.Outs {
				for ib, ob := range b.Outs {
					if a == b && ia == ib {
						continue
					}
					if oa.contains(ob) || ob.contains(oa) {
						return fail(at(b.outLines[ib]), "stages %s and %s both write %s", a.Name, b.Name, ob)
					}
				}
			}
		}
	}
	if cycle := findCycle(order, p.byName); cycle != nil {
		return fail(at(p.byName[cycle[0]].Line), "dependency cycle: %s", strings.Join(cycle, " → "))
	}
	p.Stages = topoSort(order, p.byName)
	return nil
}

// checkSymlinks refuses outs that leave the root through a symlink.
func (p *Pipeline) checkSymlinks() error {
	root, err := filepath.EvalSymlinks(p.Root)
	if err != nil {
		return nil // the root does not exist yet, so neither do links in it
	}
	for _, s := range p.Stages {
		for i, o := range s.Outs {
			// Resolve the longest existing prefix of the out.
			cur := filepath.Join(p.Root, filepath.FromSlash(o.Path))
			for {
				if _, err := os.Lstat(cur); err == nil {
					break
				}
				cur = filepath.Dir(cur)
			}
			real, err := filepath.EvalSymlinks(cur)
			if err != nil {
				return &Error{File: p.File, Line: s.outLines[i], Msg: fmt.Sprintf("stage %s: out %s: %v", s.Name, o, err)}
			}
			if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return &Error{File: p.File, Line: s.outLines[i],
					Msg: fmt.Sprintf("stage %s: out %s escapes the artifacts root through a symlink (to %s)", s.Name, o, real)}
			}
		}
	}
	return nil
}
