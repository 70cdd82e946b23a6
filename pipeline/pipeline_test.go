package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type catalog map[string]Spec

func (c catalog) Spec(uses string) (Spec, bool) { s, ok := c[uses]; return s, ok }

var testCatalog = catalog{
	"gen": {Version: "1", Params: []Param{{Name: "n", Default: 3, Range: "[1, 100]"}, {Name: "scale", Default: 1.0, Range: "(0, 10]"},
		{Name: "mode", Default: "a", Choices: []string{"a", "b"}}, {Name: "fast", Default: false}, {Name: "sizes", Default: []int{4, 2}, Range: "[1, )"}},
		Outputs: []string{"gen.npy"}, Check: func(p Params) error {
			if len(p.Ints("sizes")) > p.Int("n") {
				return errors.New("sizes lists more than n values")
			}
			return nil
		}},
	"double": {Version: "1", Inputs: []string{"gen.npy"}, Outputs: []string{"double.npy"}},
	"sum":    {Version: "1", Inputs: []string{"double.npy"}, Outputs: []string{"sum.txt", "model/"}},
}

const good = `artifacts: out
stages:
  gen:
    params: {n: 5, scale: 2, sizes: [8, 4]}
    outs: [gen/gen.npy]
  double:
    deps: [gen]
    outs: [double/double.npy]
  sum:
    deps: [double]
    outs: [sum/sum.txt, sum/model/]
`

func TestParseGood(t *testing.T) {
	p, err := Parse("dir/pipeline.yaml", []byte(good), testCatalog)
	if err != nil {
		t.Fatal(err)
	}
	if p.Root != filepath.Join("dir", "out") {
		t.Errorf("root %q", p.Root)
	}
	var names []string
	for _, s := range p.Stages {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "gen,double,sum" {
		t.Errorf("order %s", got)
	}
	g := p.Stage("gen")
	if g.Params.Int("n") != 5 || g.Params.Float("scale") != 2 || g.Params.String("mode") != "a" ||
		g.Params.Bool("fast") || g.Params.Ints("sizes")[0] != 8 {
		t.Errorf("params %v", g.Params)
	}
	if o := p.Stage("sum").Outs[1]; !o.Dir || o.Name() != "model/" || o.Path != "sum/model" {
		t.Errorf("dir out %+v", o)
	}
	if got := len(p.Downstream("double")); got != 2 {
		t.Errorf("downstream of double: %d stages", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		line       int
		want       string
	}{
		{"invalid yaml", "stages: [\n", 1, "invalid YAML"},
		{"empty", "", 0, "empty file"},
		{"not a mapping", "- a\n", 1, "want a mapping"},
		{"unknown top key", "stagez: {}\n", 1, `unknown key "stagez"`},
		{"no stages", "artifacts: x\n", 1, "no stages"},
		{"unknown stage key", "stages:\n  gen:\n    outs: [g/gen.npy]\n    cmd: x\n", 4, `unknown key "cmd"`},
		{"duplicate stage", "stages:\n  gen:\n    outs: [a/gen.npy]\n  gen:\n    outs: [b/gen.npy]\n", 4, `duplicate stage "gen" (first at line 2)`},
		{"unknown implementation", "stages:\n  gen2:\n    outs: [gen.npy]\n", 2, `no stage implementation called "gen2"`},
		{"unknown param", "stages:\n  gen:\n    params: {m: 1}\n    outs: [gen.npy]\n", 3, `unknown param "m" (known: fast, mode, n, scale, sizes)`},
		{"wrong type int", "stages:\n  gen:\n    params:\n      n: abc\n    outs: [gen.npy]\n", 4, `param n: want int, got string "abc"`},
		{"wrong type float", "stages:\n  gen:\n    params:\n      scale: [1]\n    outs: [gen.npy]\n", 4, "param scale: want float, got a list"},
		{"wrong type bool", "stages:\n  gen:\n    params:\n      fast: 1\n    outs: [gen.npy]\n", 4, "param fast: want bool, got int 1"},
		{"wrong list item", "stages:\n  gen:\n    params:\n      sizes: [1, x]\n    outs: [gen.npy]\n", 4, `got string "x" in the list`},
		{"unknown dep", "stages:\n  gen:\n    deps: [nope]\n    outs: [gen.npy]\n", 2, `unknown dep "nope"`},
		{"self dep", "stages:\n  gen:\n    deps: [gen]\n    outs: [gen.npy]\n", 2, "depends on itself"},
		{"cycle", "stages:\n  gen:\n    deps: [sum]\n    outs: [gen.npy]\n  double:\n    deps: [gen]\n    outs: [double.npy]\n  sum:\n    deps: [double]\n    outs: [sum.txt, model/]\n", 2, "dependency cycle: gen → double → sum → gen"},
		{"same out twice", "stages:\n  gen:\n    outs: [x/gen.npy]\n  other:\n    uses: gen\n    outs: [x/gen.npy]\n", 6, "stages gen and other both write x/gen.npy"},
		{"out inside dir out", "stages:\n  gen:\n    outs: [m/model/gen.npy]\n  double:\n    deps: [gen]\n    outs: [double.npy]\n  sum:\n    deps: [double]\n    outs: [sum.txt, m/model/]\n", 9, "stages gen and sum both write m/model/"},
		{"escaping out", "stages:\n  gen:\n    outs: [../gen.npy]\n", 3, "escapes the artifacts root"},
		{"escaping out after clean", "stages:\n  gen:\n    outs: [a/../../gen.npy]\n", 3, "escapes the artifacts root"},
		{"absolute out", "stages:\n  gen:\n    outs: [/tmp/gen.npy]\n", 3, "absolute path"},
		{"internal out", "stages:\n  gen:\n    outs: [.siamese/gen.npy]\n", 3, "keeps for itself"},
		{"out not written", "stages:\n  gen:\n    outs: [gen.npy, extra.npy]\n", 3, `does not write "extra.npy"`},
		{"missing out", "stages:\n  gen:\n    params: {}\n", 2, `outs must name "gen.npy" exactly once`},
		{"input from no dep", "stages:\n  gen:\n    outs: [gen.npy]\n  double:\n    outs: [double.npy]\n", 4, `reads "gen.npy", but none of its deps`},
		{"bad gate", "stages:\n  gen:\n    outs: [gen.npy]\ngate:\n  - metric: auc\n", 5, "needs a metric and min or max_drop"},
		{"bad stage name", "stages:\n  Gen:\n    outs: [gen.npy]\n", 2, "stage name \"Gen\""},
		{"int below range", "stages:\n  gen:\n    params:\n      n: 0\n    outs: [gen.npy]\n", 4, "param n: 0 is out of range [1, 100]"},
		{"int above range", "stages:\n  gen:\n    params:\n      n: 101\n    outs: [gen.npy]\n", 4, "param n: 101 is out of range [1, 100]"},
		{"float at open bound", "stages:\n  gen:\n    params:\n      scale: 0\n    outs: [gen.npy]\n", 4, "param scale: 0 is out of range (0, 10]"},
		{"float nan", "stages:\n  gen:\n    params:\n      scale: .nan\n    outs: [gen.npy]\n", 4, "param scale: NaN is not a finite number"},
		{"float inf", "stages:\n  gen:\n    params:\n      scale: .inf\n    outs: [gen.npy]\n", 4, "param scale: +Inf is not a finite number"},
		{"choice", "stages:\n  gen:\n    params:\n      mode: c\n    outs: [gen.npy]\n", 4, `param mode: "c" is not one of a, b`},
		{"list element", "stages:\n  gen:\n    params:\n      sizes: [3, 0]\n    outs: [gen.npy]\n", 4, "param sizes: 0 is out of range [1, )"},
		{"empty list", "stages:\n  gen:\n    params:\n      sizes: []\n    outs: [gen.npy]\n", 4, "param sizes: want at least one value"},
		{"bad executor", "executor: pbs\nstages:\n  gen:\n    outs: [gen.npy]\n", 1, `executor: want local or slurm, got string "pbs"`},
		{"slurm not a mapping", "slurm: debug\nstages:\n  gen:\n    outs: [gen.npy]\n", 1, "slurm: want a mapping"},
		{"slurm unknown key", "slurm:\n  partition: debug\n  queue: x\nstages:\n  gen:\n    outs: [gen.npy]\n", 3, `slurm: unknown key "queue"`},
		{"slurm bad partition", "slurm:\n  partition: [a]\nstages:\n  gen:\n    outs: [gen.npy]\n", 2, "slurm: partition: want a name, got a list"},
		{"slurm arg not an option", "slurm:\n  args: [--constraint=avx2, exclusive]\nstages:\n  gen:\n    outs: [gen.npy]\n", 2, `want an sbatch option starting with '-', got string "exclusive"`},
		{"resources not a mapping", "stages:\n  gen:\n    outs: [gen.npy]\n    resources: 4\n", 4, "stage gen: resources: want a mapping"},
		{"resources unknown key", "stages:\n  gen:\n    outs: [gen.npy]\n    resources:\n      cores: 2\n", 5, `resources: unknown key "cores"`},
		{"resources cpus zero", "stages:\n  gen:\n    outs: [gen.npy]\n    resources: {cpus: 0}\n", 4, "resources: cpus: 0 is out of range [1, 4096]"},
		{"resources cpus string", "stages:\n  gen:\n    outs: [gen.npy]\n    resources:\n      cpus: two\n", 5, `resources: cpus: want int, got string "two"`},
		{"resources gpus negative", "stages:\n  gen:\n    outs: [gen.npy]\n    resources: {gpus: -1}\n", 4, "resources: gpus: -1 is out of range [0, 4096]"},
		{"resources mem unit", "stages:\n  gen:\n    outs: [gen.npy]\n    resources:\n      mem: 4GiB\n", 5, `resources: mem: want a size like 4G or 500M, got string "4GiB"`},
		{"resources mem zero", "stages:\n  gen:\n    outs: [gen.npy]\n    resources: {mem: 0G}\n", 4, "resources: mem: 0G is out of range"},
		{"resources time", "stages:\n  gen:\n    outs: [gen.npy]\n    resources:\n      mem: 1G\n      time: soon\n", 6, `resources: time: want a duration like 30m or 2h (or minutes), got string "soon"`},
		{"resources time zero", "stages:\n  gen:\n    outs: [gen.npy]\n    resources: {time: 0}\n", 4, "resources: time: want a duration"},
		{"resources duplicate", "stages:\n  gen:\n    outs: [gen.npy]\n    resources: {cpus: 1, cpus: 2}\n", 4, `duplicate key "cpus"`},
		{"cross-param rule", "stages:\n  gen:\n    params: {n: 1}\n    outs: [gen.npy]\n", 2, "stage gen: params: sizes lists more than n values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tt.yaml), testCatalog)
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("want *Error, got %v", err)
			}
			if perr.Line != tt.line || !strings.Contains(perr.Msg, tt.want) {
				t.Errorf("got %q (line %d), want line %d with %q", err, perr.Line, tt.line, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "p.yaml:") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestParseExecutorAndResources(t *testing.T) {
	src := "executor: slurm\nslurm:\n  partition: gpu\n  account: ml\n  qos: night\n  args: [--constraint=avx2]\n" +
		strings.Replace(good, "    outs: [gen/gen.npy]\n", "    outs: [gen/gen.npy]\n    resources: {cpus: 2, mem: 4G, time: 30m, gpus: 1}\n", 1)
	p, err := Parse("p.yaml", []byte(src), testCatalog)
	if err != nil {
		t.Fatal(err)
	}
	if p.Executor != "slurm" || p.Slurm.Partition != "gpu" || p.Slurm.Account != "ml" || p.Slurm.QOS != "night" ||
		len(p.Slurm.Args) != 1 || p.Slurm.Args[0] != "--constraint=avx2" {
		t.Errorf("executor %q, slurm %+v", p.Executor, p.Slurm)
	}
	r := p.Stage("gen").Resources
	if r.CPUs != 2 || r.MemMB != 4096 || r.Minutes() != 30 || r.GPUs != 1 {
		t.Errorf("resources %+v", r)
	}
	if r := p.Stage("double").Resources; r != (Resources{}) {
		t.Errorf("unset resources %+v", r)
	}
	for _, tt := range []struct {
		yaml string
		want Resources
	}{
		{"{mem: 512}", Resources{MemMB: 512}},
		{"{mem: 1500K}", Resources{MemMB: 2}},
		{"{mem: 2t}", Resources{MemMB: 2 << 20}},
		{"{time: 90}", Resources{Time: 90 * time.Minute}},
		{"{time: 1h30m10s}", Resources{Time: 90*time.Minute + 10*time.Second}},
	} {
		src := strings.Replace(good, "    outs: [gen/gen.npy]\n", "    outs: [gen/gen.npy]\n    resources: "+tt.yaml+"\n", 1)
		p, err := Parse("p.yaml", []byte(src), testCatalog)
		if err != nil {
			t.Fatalf("%s: %v", tt.yaml, err)
		}
		if got := p.Stage("gen").Resources; got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.yaml, got, tt.want)
		}
	}
	if p, err := Parse("p.yaml", []byte(good), testCatalog); err != nil || p.Executor != "local" {
		t.Errorf("default executor %q, %v", p.Executor, err)
	}
}

func TestSet(t *testing.T) {
	tests := []struct {
		assign, want string
		check        func(p *Pipeline) bool
	}{
		{"gen.n=7", "", func(p *Pipeline) bool { return p.Stage("gen").Params.Int("n") == 7 }},
		{"gen.scale=0.5", "", func(p *Pipeline) bool { return p.Stage("gen").Params.Float("scale") == 0.5 }},
		{"gen.mode=b", "", func(p *Pipeline) bool { return p.Stage("gen").Params.String("mode") == "b" }},
		{"gen.sizes=[1,2,3]", "", func(p *Pipeline) bool { return len(p.Stage("gen").Params.Ints("sizes")) == 3 }},
		{"gen.n=x", "want int", nil},
		{"gen.q=1", `no param "q"`, nil},
		{"nope.n=1", `no stage "nope"`, nil},
		{"gen=1", "want stage.param=value", nil},
		{"gen.n=0", "0 is out of range [1, 100]", nil},
		{"gen.scale=-1", "-1 is out of range (0, 10]", nil},
		{"gen.mode=z", `"z" is not one of a, b`, nil},
		{"gen.sizes=[1,2,3,4,5,6]", "stage gen: sizes lists more than n values", nil},
	}
	for _, tt := range tests {
		p, err := Parse("p.yaml", []byte(good), testCatalog)
		if err != nil {
			t.Fatal(err)
		}
		err = p.Set(tt.assign)
		if tt.want == "" {
			if err != nil || !tt.check(p) {
				t.Errorf("Set(%q): %v", tt.assign, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Set(%q) = %v, want %q", tt.assign, err, tt.want)
		}
	}
}

func TestLoadSymlinkOut(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "out")
	outside := t.TempDir()
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "gen")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(file, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(file, testCatalog, "")
	if err == nil || !strings.Contains(err.Error(), "through a symlink") || !strings.Contains(err.Error(), ":5:") {
		t.Fatalf("want a symlink error at line 5, got %v", err)
	}
	// The same file with another root is fine.
	if _, err := Load(file, testCatalog, filepath.Join(dir, "other")); err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("stages:\n  gen:\n    deps: [gen]\n"))
	f.Add([]byte("gate:\n  - {metric: x, min: 1}\nstages: {gen: null}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("executor: slurm\nslurm: {partition: p, args: [--x]}\nstages:\n  gen:\n    outs: [g.npy]\n    resources: {cpus: 2, mem: 4G, time: 30m, gpus: 0}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("f.yaml", data, testCatalog)
		if err == nil && len(p.Stages) == 0 {
			t.Fatal("a pipeline without stages parsed")
		}
	})
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		r      string
		in     []float64
		out    []float64
		broken bool
	}{
		{r: "[1, 100]", in: []float64{1, 50, 100}, out: []float64{0, 100.5}},
		{r: "(0, 1)", in: []float64{1e-9, 0.5}, out: []float64{0, 1}},
		{r: "[0, )", in: []float64{0, 1e300}, out: []float64{-1}},
		{r: "(, 2]", in: []float64{-1e300, 2}, out: []float64{2.1}},
		{r: "1, 2", broken: true},
		{r: "[2, 1]", broken: true},
		{r: "[a, 1]", broken: true},
		{r: "[1 2]", broken: true},
	}
	for _, tt := range tests {
		r, err := parseRange(tt.r)
		if (err != nil) != tt.broken {
			t.Fatalf("parseRange(%q): %v", tt.r, err)
		}
		for _, x := range tt.in {
			if err := r.check(x, "x"); err != nil {
				t.Errorf("%s: %v refused: %v", tt.r, x, err)
			}
		}
		for _, x := range tt.out {
			if err := r.check(x, "x"); err == nil {
				t.Errorf("%s: %v accepted", tt.r, x)
			}
		}
	}
}

// TestSetAll checks rules across params once every override is applied,
// so that two overrides that satisfy a rule together pass in either
// order, and leaves the params as they were on an error.
func TestSetAll(t *testing.T) {
	tests := []struct {
		assigns []string
		want    string
	}{
		{[]string{"gen.sizes=[1,2,3,4,5,6]", "gen.n=6"}, ""},
		{[]string{"gen.n=6", "gen.sizes=[1,2,3,4,5,6]"}, ""},
		{[]string{"gen.sizes=[1,2,3,4,5,6]"}, "--set gen.sizes=[1,2,3,4,5,6]: stage gen: sizes lists more than n values"},
		{[]string{"gen.n=6", "gen.sizes=[1,2,3,4,5,6]", "gen.n=5"}, "--set gen.n=5: stage gen: sizes lists more than n values"},
		{[]string{"gen.n=6", "gen.mode=z"}, `"z" is not one of a, b`},
	}
	for _, tt := range tests {
		p, err := Parse("p.yaml", []byte(good), testCatalog)
		if err != nil {
			t.Fatal(err)
		}
		before := fmt.Sprint(p.Stage("gen").Params)
		err = p.SetAll(tt.assigns)
		if tt.want == "" {
			if err != nil || p.Stage("gen").Params.Int("n") != 6 || len(p.Stage("gen").Params.Ints("sizes")) != 6 {
				t.Errorf("SetAll(%q): %v, params %v", tt.assigns, err, p.Stage("gen").Params)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("SetAll(%q) = %v, want %q", tt.assigns, err, tt.want)
		}
		if after := fmt.Sprint(p.Stage("gen").Params); after != before {
			t.Errorf("SetAll(%q) failed and left params %s, were %s", tt.assigns, after, before)
		}
	}
}
