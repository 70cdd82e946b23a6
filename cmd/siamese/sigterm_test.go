package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/artifacts"
)

// TestSIGTERMDuringEvaluate runs the evaluate stage at full size (the
// 70,000 images, 30,000 triplets, 10,000 queries and the 784→512→256→128
// network of pipeline.yaml, with weights drawn at random rather than
// trained for minutes) and sends it SIGTERM in the middle: the program
// exits with 143 within a second, saying what will rerun.
func TestSIGTERMDuringEvaluate(t *testing.T) {
	if testing.Short() {
		t.Skip("prepares the full-size inputs of evaluate")
	}
	src := syntheticSource(t)
	root := filepath.Join(t.TempDir(), "out")
	base := []string{"-f", repoFile("pipeline.yaml"), "--artifacts", root, "run", "--no-gate", "--set", "ingest.source=" + src}
	for _, stage := range []string{"ingest", "triplets", "split"} {
		if code, out, errOut := runProgram(t, ".", append(base, "--only", stage)...); code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", stage, code, out, errOut)
		}
	}
	// The network's weights, at random.
	rng := rand.New(rand.NewPCG(1, 2))
	var layers []artifacts.Dense
	in := 784
	for i, out := range []int{512, 256, 128} {
		l := artifacts.Dense{In: in, Out: out, W: make([]float32, in*out), B: make([]float32, out), Activation: "relu"}
		for j := range l.W {
			l.W[j] = float32(rng.NormFloat64() * 0.05)
		}
		if i == 2 {
			l.Activation = "linear"
		}
		layers, in = append(layers, l), out
	}
	model := filepath.Join(root, "train", "model")
	if err := os.MkdirAll(model, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := artifacts.WriteMLP(model, layers, nil); err != nil {
		t.Fatal(err)
	}

	cmd := program(append(base, "--only", "evaluate")...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Somewhere in the stage's first second (it takes 1.5–3 s here): the
	// delay counts from the stage's start, not the program's, which loads
	// and checks its inputs first for a time that varies.
	awaitLog(t, cmd, &out, filepath.Join(root, "evaluate", "evaluate.log"), "stage running", "evaluate never started")
	delay := time.Duration(os.Getpid()%800+100) * time.Millisecond
	if d := os.Getenv("SIAMESE_SIGTERM_AFTER"); d != "" {
		delay, _ = time.ParseDuration(d)
	}
	time.Sleep(delay)
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	took := time.Since(sent)
	t.Logf("SIGTERM at %s, %v after the start; the program ended %v later:\n%s", sent.UTC().Format("15:04:05.000"),
		sent.Sub(start).Round(time.Millisecond), took.Round(time.Millisecond), out.String())
	if code := cmd.ProcessState.ExitCode(); code != 143 || took > time.Second ||
		!strings.Contains(out.String(), "siamese: interrupted (SIGTERM): evaluate will rerun") {
		t.Fatalf("exit %d after %v, want 143 within a second:\n%s", code, took, out.String())
	}
	last := latestRun(t, root)
	if !strings.Contains(string(last), `"outcome": "interrupted"`) {
		t.Errorf("the run record does not say interrupted:\n%s", last)
	}
}

// TestSIGTERMDuringTrain interrupts a small training after its second
// epoch: exit 143, the message names the epoch the next run resumes
// from, and the next run does resume there.
func TestSIGTERMDuringTrain(t *testing.T) {
	if testing.Short() {
		t.Skip("trains")
	}
	code, got, root, args := signalTrain(t, syscall.SIGTERM)
	// The notebook stage runs beside train, and may be named first.
	i := strings.Index(got, "train will resume from epoch ")
	if code != 143 || i < 0 || !strings.Contains(got, "siamese: interrupted (SIGTERM): ") {
		t.Fatalf("exit %d, want 143 and the epoch to resume from:\n%s", code, got)
	}
	var epoch int
	fmt.Sscanf(got[i+len("train will resume from epoch "):], "%d", &epoch)
	if epoch < 3 {
		t.Fatalf("resumes from epoch %d, after two finished:\n%s", epoch, got)
	}
	// The rerun resumes there: its first epoch is that one (and it is
	// stopped again once it has trained it).
	os.Remove(filepath.Join(root, "train", "train.log"))
	cmd := program(args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const line = "msg=epoch stage=train epoch="
	logFile := filepath.Join(root, "train", "train.log")
	awaitLog(t, cmd, &out, logFile, line, "the rerun trained no epoch")
	log, _ := os.ReadFile(logFile)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	first := 0
	if j := bytes.Index(log, []byte(line)); j >= 0 {
		fmt.Sscanf(string(log[j+len(line):]), "%d", &first)
	}
	if first != epoch {
		t.Errorf("the rerun's first epoch is %d, want %d:\n%s\n%s", first, epoch, log, out.String())
	}
}

// latestRun returns the run record under root that started last (runs of
// the same second sort by a random suffix, not by time).
func latestRun(t *testing.T, root string) []byte {
	t.Helper()
	runs, _ := filepath.Glob(filepath.Join(root, "runs", "*.json"))
	var last []byte
	var lastStart time.Time
	for _, r := range runs {
		data, err := os.ReadFile(r)
		var rec struct{ Start time.Time }
		if err != nil || json.Unmarshal(data, &rec) != nil {
			t.Fatalf("run record %s: %v", r, err)
		}
		if last == nil || rec.Start.After(lastStart) {
			last, lastStart = data, rec.Start
		}
	}
	if last == nil {
		t.Fatal("no run record")
	}
	return last
}
