package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A pipeline of data stages alone (make bench's bench/data.yaml: no
// model, no gate) runs, and its run is recorded: there is a dataset and
// nothing to score with.
func TestDataStagesAlone(t *testing.T) {
	src := syntheticSource(t)
	root := filepath.Join(t.TempDir(), "out")
	code, out, errOut := runProgram(t, ".", "-f", repoFile("bench/data.yaml"), "--artifacts", root, "run",
		"--set", "ingest.source="+src, "--set", "triplets.per_class=20")
	if code != 0 || !strings.Contains(errOut, "run recorded") || strings.Count(out, " ran ") != 4 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}
