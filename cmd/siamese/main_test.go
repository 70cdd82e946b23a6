package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/runner"
)

// echoStage copies its param into its output; fail makes it fail.
type echoStage struct{ spec pipeline.Spec }

func (s echoStage) Spec() pipeline.Spec { return s.spec }
func (s echoStage) Run(ctx context.Context, env *runner.Env) error {
	if env.Params.Bool("fail") {
		return errors.New("asked to fail")
	}
	return os.WriteFile(env.Out(s.spec.Outputs[0]), []byte(env.Params.String("text")), 0o644)
}

var testRegistry = runner.Registry{
	"first": echoStage{pipeline.Spec{Version: "1", Outputs: []string{"a.txt"},
		Params: []pipeline.Param{{Name: "text", Default: "hello"}, {Name: "fail", Default: false}}}},
	"second": echoStage{pipeline.Spec{Version: "1", Inputs: []string{"a.txt"}, Outputs: []string{"b.txt"},
		Params: []pipeline.Param{{Name: "text", Default: "world"}, {Name: "fail", Default: false}}}},
}

const testYAML = `stages:
  first:
    outs: [first/a.txt]
  second:
    deps: [first]
    outs: [second/b.txt]
`

// siamese runs the command line in dir and returns its exit code and output.
func siamese(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	a := newApp(&out, &errOut, testRegistry)
	code := a.run(context.Background(), append([]string{"-f", filepath.Join(dir, "pipeline.yaml")}, args...))
	return code, out.String(), errOut.String()
}

func setup(t *testing.T, yaml string) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCommands(t *testing.T) {
	dir := setup(t, testYAML)
	steps := []struct {
		args     []string
		code     int
		contains []string // in stdout
	}{
		{[]string{"status"}, 0, []string{"first   never run", "second  never run"}},
		{[]string{"run", "--dry-run"}, 0, []string{"first   would run", "never run"}},
		{[]string{"run"}, 0, []string{"first   ran", "second  ran", "total"}},
		{[]string{"run"}, 0, []string{"first   cached", "second  cached"}},
		{[]string{"status", "--set", "second.text=x"}, 0, []string{"first   up to date", "second  stale: params changed: text \"world\" → \"x\""}},
		{[]string{"run", "--set", "second.text=x"}, 0, []string{"first   cached", "second  ran"}},
		{[]string{"run", "--only", "first"}, 0, []string{"first   ran", "second  not selected"}},
		{[]string{"run", "--from", "first", "--jobs", "1"}, 0, []string{"first   ran", "second  ran"}},
		{[]string{"run", "--set", "second.fail=true", "--force"}, 1, []string{"second  failed", "asked to fail"}},
		{[]string{"run", "--set", "second.nope=1"}, 2, nil},
		{[]string{"run", "--bogus"}, 2, nil},
		{[]string{"run", "extra"}, 2, nil},
		{[]string{"frobnicate"}, 2, nil},
		{[]string{"--log-format", "xml", "run"}, 2, nil},
		{[]string{"dag"}, 0, []string{"second  first  second/b.txt"}},
		{[]string{"dag", "--dot"}, 0, []string{`"first" -> "second";`, "digraph pipeline"}},
		{[]string{"version"}, 0, []string{"siamese "}},
		{[]string{"clean"}, 0, []string{"removed"}},
		{[]string{"status"}, 0, []string{"never run"}},
	}
	for _, s := range steps {
		code, out, errOut := siamese(t, dir, s.args...)
		if code != s.code {
			t.Errorf("siamese %v: exit %d, want %d\n%s%s", s.args, code, s.code, out, errOut)
		}
		for _, c := range s.contains {
			if !strings.Contains(out, c) {
				t.Errorf("siamese %v: output lacks %q:\n%s%s", s.args, c, out, errOut)
			}
		}
	}
}

func TestHelpOnEveryCommand(t *testing.T) {
	dir := setup(t, testYAML)
	for _, cmd := range []string{"", "run", "status", "dag", "runs", "runs diff", "clean", "version"} {
		args := strings.Fields(cmd + " --help")
		code, out, _ := siamese(t, dir, args...)
		if code != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("siamese %s --help: exit %d\n%s", cmd, code, out)
		}
	}
}

func TestBadPipelineExits2WithFileAndLine(t *testing.T) {
	dir := setup(t, "stages:\n  first:\n    outs: [first/a.txt]\n    colour: red\n")
	code, _, errOut := siamese(t, dir, "run")
	if code != 2 || !strings.Contains(errOut, "pipeline.yaml:4: stage first: unknown key \"colour\"") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

func TestOnlyWithMissingInput(t *testing.T) {
	dir := setup(t, testYAML)
	code, _, errOut := siamese(t, dir, "run", "--only", "second")
	if code != 2 || !strings.Contains(errOut, "stage second needs first/a.txt from stage first") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

func TestJSONLogs(t *testing.T) {
	dir := setup(t, testYAML)
	code, _, errOut := siamese(t, dir, "--log-format", "json", "run")
	if code != 0 {
		t.Fatal(errOut)
	}
	_, _, failOut := siamese(t, dir, "--log-format", "json", "run", "--force", "--set", "second.fail=true")
	stageLog, err := os.ReadFile(filepath.Join(dir, "out", "second", "second.log"))
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"run": errOut, "failed run": failOut, "stage log": string(stageLog)} {
		lines := strings.Split(strings.TrimSpace(out), "\n")
		for _, line := range lines {
			var v map[string]any
			if err := json.Unmarshal([]byte(line), &v); err != nil || v["msg"] == nil {
				t.Errorf("%s: not a JSON log line: %s", name, line)
			}
		}
		if name == "failed run" && !strings.Contains(lines[len(lines)-1], `"exit":1`) {
			t.Errorf("the failure is not logged as JSON: %s", lines[len(lines)-1])
		}
	}
}
