package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/runner"
)

// The tests that need the real program, with its signal handling and its
// exit codes, run this test binary as the program: with SIAMESE_AS_MAIN=1
// TestMain runs main with the arguments it was given.
const asMain = "SIAMESE_AS_MAIN"

// pauseEnv makes the program pause after each output it commits (a
// duration), so that a test can kill it in the middle of a commit.
const pauseEnv = "SIAMESE_TEST_COMMIT_PAUSE"

func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		if d, err := time.ParseDuration(os.Getenv(pauseEnv)); err == nil {
			runner.SetTestHookCommit(func(stage, out string) {
				fmt.Fprintf(os.Stderr, "test: committed %s %s\n", stage, out)
				time.Sleep(d)
			})
		}
		main()
		return
	}
	code := m.Run()
	if dataset.dir != "" {
		os.RemoveAll(dataset.dir)
	}
	for _, dir := range []string{learnable.dir, uninterrupted.home} {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

// program is the command that runs this binary as siamese with args.
func program(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asMain+"=1")
	return cmd
}

// runProgram runs the program to its end and returns its exit code,
// stdout and stderr.
func runProgram(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := program(args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("siamese %v: %v", args, err)
	}
	if strings.Contains(errOut.String(), "goroutine ") || strings.Contains(errOut.String(), "panic:") && strings.Contains(errOut.String(), ".go:") {
		t.Errorf("siamese %v crashed:\n%s", args, errOut.String())
	}
	return code, out.String(), errOut.String()
}

// smallRun is a run of the repository's pipeline, small: the synthetic
// full-size dataset, few triplets, one short training.
func smallRun(src, root string) []string {
	return []string{"-f", repoFile("pipeline.yaml"), "--artifacts", root, "run", "--no-gate",
		"--set", "ingest.source=" + src, "--set", "triplets.per_class=8", "--set", "train.epochs=2",
		"--set", "train.hidden=[32, 16]", "--set", "evaluate.queries=200", "--set", "evaluate.pca_points=50"}
}

func repoFile(name string) string {
	p, err := filepath.Abs(filepath.Join("..", "..", name))
	if err != nil {
		panic(err)
	}
	return p
}

var dataset struct {
	once sync.Once
	dir  string
	err  error
}

// syntheticSource writes the synthetic dataset once per test binary and
// returns its directory.
func syntheticSource(t *testing.T) string {
	t.Helper()
	dataset.once.Do(func() {
		dataset.dir, dataset.err = os.MkdirTemp("", "siamese-fashion-")
		if dataset.err == nil {
			writeIDX(t, dataset.dir)
		}
	})
	if dataset.err != nil {
		t.Fatal(dataset.err)
	}
	return dataset.dir
}

// copyTree copies a directory tree (files by content, so that changing a
// copy never changes the original).
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if info.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, info.Mode().Perm()); err != nil {
			return err
		}
		return os.Chtimes(dst, info.ModTime(), info.ModTime())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// awaitLog polls the log file at path until it contains want. After two
// minutes it kills the started cmd and fails, saying what it waited for,
// with the program's output out.
func awaitLog(t *testing.T, cmd *exec.Cmd, out *bytes.Buffer, path, want, what string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		data, _ := os.ReadFile(path)
		if strings.Contains(string(data), want) {
			return
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("%s:\n%s", what, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
