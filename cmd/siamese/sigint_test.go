package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestSIGINTDuringTrain sends SIGINT, as Ctrl-C does, to a small training
// after its second epoch: the program stops as it does on SIGTERM, with
// exit 130 (128 + SIGINT), the line saying from which epoch train will
// resume, and the run recorded as interrupted.
func TestSIGINTDuringTrain(t *testing.T) {
	if testing.Short() {
		t.Skip("trains")
	}
	src := syntheticSource(t)
	root := filepath.Join(t.TempDir(), "out")
	args := append(smallRun(src, root), "--set", "train.epochs=1000", "--set", "train.patience=1000", "--set", "triplets.per_class=100")
	cmd := program(args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	awaitLog(t, cmd, &out, filepath.Join(root, "train", "train.log"), "msg=epoch stage=train epoch=2 ", "no second epoch")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	got := out.String()
	if code := cmd.ProcessState.ExitCode(); code != 130 ||
		!strings.Contains(got, "siamese: interrupted (SIGINT): train will resume from epoch ") {
		t.Fatalf("exit %d (%v), want 130 and the epoch train will resume from:\n%s", code, cmd.ProcessState, got)
	}
	runs, err := filepath.Glob(filepath.Join(root, "runs", "*.json"))
	if err != nil || len(runs) == 0 {
		t.Fatalf("no run recorded under %s (%v)", filepath.Join(root, "runs"), err)
	}
	last, err := os.ReadFile(runs[len(runs)-1])
	if err != nil || !strings.Contains(string(last), `"outcome": "interrupted"`) {
		t.Errorf("the run record does not say interrupted (%v):\n%s", err, last)
	}
}
