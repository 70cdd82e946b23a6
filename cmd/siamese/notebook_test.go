package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/internal/testenv"
)

// executeNotebook runs examples/load_artifacts.ipynb in Jupyter
// (jupyter nbconvert --execute, as a notebook user would run every cell)
// on the artifacts under root, and checks that every cell ran without
// error and that the metrics and anchors checks passed.
func executeNotebook(t *testing.T, root string) {
	t.Helper()
	jupyter, err := exec.LookPath("jupyter-nbconvert")
	if err != nil {
		testenv.Missing(t, "jupyter-nbconvert is not installed (Debian: jupyter-nbconvert python3-ipykernel)")
		return
	}
	// The notebook reads ARTIFACTS = "../out", relative to itself.
	dir := t.TempDir()
	nbDir := filepath.Join(dir, "examples")
	if err := os.MkdirAll(nbDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(root, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("../../examples/load_artifacts.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), `ARTIFACTS = \"../out\"`) {
		t.Fatal(`the notebook no longer reads ARTIFACTS = "../out": update this test`)
	}
	nb := filepath.Join(nbDir, "load_artifacts.ipynb")
	if err := os.WriteFile(nb, src, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(jupyter, "--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=600",
		"--output", "executed.ipynb", nb)
	cmd.Env = append(os.Environ(), "JUPYTER_PLATFORM_DIRS=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		if strings.Contains(string(out), "No such kernel") {
			testenv.Missing(t, "Jupyter has no python3 kernel (Debian: python3-ipykernel)")
			return
		}
		t.Fatalf("jupyter nbconvert --execute: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(nbDir, "executed.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	var executed struct {
		Cells []struct {
			CellType       string `json:"cell_type"`
			ExecutionCount *int   `json:"execution_count"`
			Outputs        []struct {
				OutputType string            `json:"output_type"`
				Text       []string          `json:"text"`
				Data       map[string]any    `json:"data"`
				EName      string            `json:"ename"`
				Extra      map[string]string `json:"-"`
			} `json:"outputs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(data, &executed); err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	ran := 0
	for i, c := range executed.Cells {
		if c.CellType != "code" {
			continue
		}
		if c.ExecutionCount == nil {
			t.Errorf("code cell %d did not run", i)
		}
		ran++
		for _, o := range c.Outputs {
			if o.OutputType == "error" {
				t.Errorf("code cell %d raised %s", i, o.EName)
			}
			text.WriteString(strings.Join(o.Text, ""))
			if plain, ok := o.Data["text/plain"].([]any); ok {
				for _, l := range plain {
					s, _ := l.(string)
					text.WriteString(s)
				}
			}
		}
	}
	for _, want := range []string{"'all metrics match'", "'anchors and thresholds fit'", "anchors (10, 128) float32"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the executed notebook's outputs lack %q:\n%s", want, text.String())
		}
	}
	t.Logf("Jupyter ran %d code cells", ran)
}
