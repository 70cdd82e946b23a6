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
	code, got, root, _ := signalTrain(t, syscall.SIGINT)
	// The notebook stage runs beside train, and may be named first.
	if code != 130 || !strings.Contains(got, "siamese: interrupted (SIGINT): ") || !strings.Contains(got, "train will resume from epoch ") {
		t.Fatalf("exit %d, want 130 and the epoch train will resume from:\n%s", code, got)
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

// signalTrain starts a small training of a thousand epochs, sends it sig
// once its second epoch is logged, and returns the program's exit code
// and output, and the root and arguments of its run.
func signalTrain(t *testing.T, sig syscall.Signal) (code int, output, root string, args []string) {
	t.Helper()
	src := syntheticSource(t)
	root = filepath.Join(t.TempDir(), "out")
	args = append(smallRun(src, root), "--set", "train.epochs=1000", "--set", "train.patience=1000", "--set", "triplets.per_class=100")
	cmd := program(args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	awaitLog(t, cmd, &out, filepath.Join(root, "train", "train.log"), "msg=epoch stage=train epoch=2 ", "no second epoch")
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	return cmd.ProcessState.ExitCode(), out.String(), root, args
}
