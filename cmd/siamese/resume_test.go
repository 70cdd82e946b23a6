package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/stages"
)

// resumeArgs run the pipeline up to a training of several epochs long
// enough to be killed in the middle of one.
func resumeArgs(src, root string) []string {
	return []string{"-f", "../../pipeline.yaml", "--artifacts", root, "run", "--no-gate",
		"--set", "ingest.source=" + src, "--set", "triplets.per_class=200", "--set", "train.epochs=4",
		"--set", "train.patience=10", "--set", "evaluate.queries=200", "--set", "evaluate.pca_points=100"}
}

// TestTrainKilledAndResumed kills a run with SIGKILL during the third
// epoch of training, reruns it, and checks that training resumed from its
// checkpoint and ended with the weights of an uninterrupted run.
func TestTrainKilledAndResumed(t *testing.T) {
	killAndResume(t, resumeArgs)
}

// killAndResume is TestTrainKilledAndResumed for the pipeline args gives.
func killAndResume(t *testing.T, resumeArgs func(src, root string) []string) {
	if os.Getenv("SIAMESE_RESUME_HELPER") != "" {
		return
	}
	if testing.Short() {
		t.Skip("trains twice")
	}
	tmp := t.TempDir()
	src := filepath.Join(tmp, "fashion")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	writeIDX(t, src)
	killed, clean := filepath.Join(tmp, "killed"), filepath.Join(tmp, "clean")

	cmd := exec.Command(os.Args[0], "-test.run=^TestResumeHelper$")
	cmd.Env = append(os.Environ(), "SIAMESE_RESUME_HELPER="+strings.Join(resumeArgs(src, killed), "\x1f"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(killed, "train", "train.log")
	awaitLog(t, cmd, &out, logFile, " epoch=2 loss=", "training never finished epoch 2")
	time.Sleep(100 * time.Millisecond) // into epoch 3
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(killed, "train", "model")); err == nil {
		t.Fatal("the killed training's model is in place")
	}

	for _, root := range []string{killed, clean} {
		var stdout, stderr bytes.Buffer
		if code := newApp(&stdout, &stderr, stages.Registry()).run(context.Background(), resumeArgs(src, root)); code != 0 {
			t.Fatalf("run in %s: exit %d\n%s%s", root, code, stdout.String(), stderr.String())
		}
	}
	data, _ := os.ReadFile(logFile)
	if !strings.Contains(string(data), "resumed from a checkpoint") {
		t.Errorf("the rerun did not resume:\n%s", data)
	}
	files, _ := filepath.Glob(filepath.Join(clean, "train", "model", "*"))
	if len(files) == 0 {
		t.Fatal("no model")
	}
	for _, f := range files {
		a, errA := os.ReadFile(f)
		b, errB := os.ReadFile(filepath.Join(killed, "train", "model", filepath.Base(f)))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between the resumed and the uninterrupted run (%v, %v)", filepath.Base(f), errA, errB)
		}
	}
}

// TestResumeHelper is the process TestTrainKilledAndResumed kills.
func TestResumeHelper(t *testing.T) {
	args := os.Getenv("SIAMESE_RESUME_HELPER")
	if args == "" {
		t.Skip("run by TestTrainKilledAndResumed")
	}
	newApp(os.Stdout, os.Stderr, stages.Registry()).run(context.Background(), strings.Split(args, "\x1f"))
}
