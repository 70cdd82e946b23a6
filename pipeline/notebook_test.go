package pipeline

import (
	"strings"
	"testing"
)

// A catalog with a stage of notebook arrays beside the chain.
var notebookCatalog = catalog{
	"gen":    testCatalog["gen"],
	"double": testCatalog["double"],
	"copies": {Version: "1", Inputs: []string{"gen.npy"}, Outputs: []string{"copy.npy"}, NotebookArrays: true},
	"reader": {Version: "1", Inputs: []string{"copy.npy"}, Outputs: []string{"read.txt"}},
}

const withCopies = `stages:
  gen:
    outs: [gen/gen.npy]
  double:
    deps: [gen]
    outs: [double/double.npy]
  copies:
    deps: [gen]
    outs: [copies/copy.npy]
`

func TestNotebookArraysSwitch(t *testing.T) {
	for _, c := range []struct {
		name, top string
		on        bool
	}{
		{"default", "", true},
		{"true", "notebook_arrays: true\n", true},
		{"false", "notebook_arrays: false\n", false},
		{"no", "notebook_arrays: no\n", true}, // YAML 1.2: a string, refused below
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse("pipeline.yaml", []byte(c.top+withCopies), notebookCatalog)
			if c.name == "no" {
				if err == nil || !strings.Contains(err.Error(), "notebook_arrays: want true or false") {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.NotebookArrays != c.on || p.Off(p.Stage("copies")) == c.on || p.Off(p.Stage("double")) {
				t.Errorf("NotebookArrays %v, copies off %v, double off %v", p.NotebookArrays, p.Off(p.Stage("copies")), p.Off(p.Stage("double")))
			}
		})
	}
}

func TestNoStageReadsNotebookArrays(t *testing.T) {
	_, err := Parse("pipeline.yaml", []byte(withCopies+"  reader:\n    deps: [copies]\n    outs: [r/read.txt]\n"), notebookCatalog)
	if err == nil || !strings.Contains(err.Error(), `stage reader reads "copy.npy", a notebook array of stage copies`) {
		t.Fatalf("error %v", err)
	}
}
