package slurm_test

// These tests run the repository's pipeline.yaml, small, through the
// program's own binary on a real Slurm cluster: the single-node one that
// scripts/slurm-local.sh starts on this machine (its /tmp is the shared
// filesystem). They skip, saying why, where Slurm cannot be started.

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/internal/synthidx"
	"github.com/siamese-pipeline/siamese/internal/testenv"
)

var (
	setupOnce sync.Once
	setupErr  error
	shared    string // the binary and the dataset, for every test
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != "" {
		os.RemoveAll(shared)
	}
	os.Exit(code)
}

// cluster starts the local cluster if it is not up, builds the program
// and writes a synthetic dataset, once.
func cluster(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the pipeline on a Slurm cluster")
	}
	if _, err := exec.LookPath("sbatch"); err != nil {
		testenv.Missing(t, "Slurm is not installed (apt-get install slurm-wlm munge)")
	}
	if out, err := exec.Command("../../scripts/slurm-local.sh", "start").CombinedOutput(); err != nil {
		testenv.Missing(t, fmt.Sprintf("the local Slurm cluster cannot be started (scripts/slurm-local.sh start): %v\n%s", err, out))
	}
	setupOnce.Do(func() {
		if shared, setupErr = os.MkdirTemp("", "siamese-slurm-"); setupErr != nil {
			return
		}
		// The jobs must run the program under test.
		out, err := exec.Command("go", "build", "-o", filepath.Join(shared, "siamese"), "../../cmd/siamese").CombinedOutput()
		if err != nil {
			setupErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		setupErr = synthidx.Write(filepath.Join(shared, "fashion"), synthidx.Bands)
	})
	if setupErr != nil {
		t.Fatal(setupErr)
	}
}

// small are the overrides of a small run.
func small(extra ...string) []string {
	return append([]string{"--no-gate", "--set", "ingest.source=" + filepath.Join(shared, "fashion"),
		"--set", "triplets.per_class=60", "--set", "train.epochs=1",
		"--set", "evaluate.queries=200", "--set", "evaluate.pca_points=100"}, extra...)
}

// siamese prepares the program under test on root.
func siamese(root string, args ...string) *exec.Cmd {
	file, _ := filepath.Abs("../../pipeline.yaml")
	cmd := exec.Command(filepath.Join(shared, "siamese"), append([]string{"-f", file, "--artifacts", root}, args...)...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	return cmd
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

func runSiamese(t *testing.T, root string, args ...string) result {
	t.Helper()
	cmd := siamese(root, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return result{code, out.String(), errOut.String()}
}

var submittedRE = regexp.MustCompile(`(?m)^(\S+)\s+job (\d+)\s+submitted`)

// submitted returns the job of each stage a run submitted.
func submitted(stderr string) map[string]string {
	jobs := map[string]string{}
	for _, m := range submittedRE.FindAllStringSubmatch(stderr, -1) {
		jobs[m[1]] = m[2]
	}
	return jobs
}

// states asks squeue for the state and reason of jobs.
func states(t *testing.T, jobs ...string) map[string]string {
	t.Helper()
	out, err := exec.Command("squeue", "--noheader", "--states=all", "--jobs="+strings.Join(jobs, ","), "--format=%i %T %r").Output()
	if err != nil {
		t.Fatalf("squeue: %v", err)
	}
	st := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if id, rest, ok := strings.Cut(line, " "); ok {
			st[id] = rest
		}
	}
	return st
}

// live returns those of jobs that are pending or running.
func live(t *testing.T, jobs ...string) []string {
	var out []string
	for id, s := range states(t, jobs...) {
		if strings.HasPrefix(s, "PENDING") || strings.HasPrefix(s, "RUNNING") || strings.HasPrefix(s, "COMPLETING") || strings.HasPrefix(s, "CONFIGURING") {
			out = append(out, id)
		}
	}
	return out
}

func values(m map[string]string) []string {
	var v []string
	for _, x := range m {
		v = append(v, x)
	}
	return v
}

// npys lists the .npy files under root, relative to it.
func npys(t *testing.T, root string) []string {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".npy") {
			rel, _ := filepath.Rel(root, p)
			files = append(files, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func sameFiles(t *testing.T, a, b string, files []string) {
	t.Helper()
	for _, f := range files {
		x, errX := os.ReadFile(filepath.Join(a, f))
		y, errY := os.ReadFile(filepath.Join(b, f))
		if errX != nil || errY != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between %s and %s (%v, %v)", f, a, b, errX, errY)
		}
	}
}

// TestSlurmRun: the same bytes as a local run, one job per stale stage,
// nothing submitted for a run with nothing stale, and a failing stage
// fails its job while its downstream jobs never run.
func TestSlurmRun(t *testing.T) {
	cluster(t)
	tmp := t.TempDir()
	local, onSlurm := filepath.Join(tmp, "local"), filepath.Join(tmp, "slurm")
	if r := runSiamese(t, local, append([]string{"run"}, small()...)...); r.code != 0 {
		t.Fatalf("local run: %s", r)
	}
	r := runSiamese(t, onSlurm, append([]string{"run", "--executor", "slurm"}, small()...)...)
	if r.code != 0 {
		t.Fatalf("slurm run: %s", r)
	}
	jobs := submitted(r.stderr)
	if len(jobs) != 7 || strings.Count(r.stdout, " ran ") != 7 {
		t.Errorf("want 7 jobs, one per stage, that ran; got %v\n%s", jobs, r)
	}
	files := npys(t, local)
	if len(files) < 10 {
		t.Fatalf("the local run wrote only %v", files)
	}
	sameFiles(t, local, onSlurm, files)

	r = runSiamese(t, onSlurm, append([]string{"run", "--executor", "slurm"}, small()...)...)
	if r.code != 0 || len(submitted(r.stderr)) != 0 || strings.Count(r.stdout, "cached") != 7 {
		t.Errorf("second run: want nothing submitted, every stage cached; %s", r)
	}

	// A source folder without the dataset's files (an empty one passes
	// the checks before the run): ingest's job fails, and the jobs
	// downstream of it never start.
	if err := os.MkdirAll(filepath.Join(tmp, "nowhere"), 0o755); err != nil {
		t.Fatal(err)
	}
	r = runSiamese(t, onSlurm, append([]string{"run", "--executor", "slurm"},
		small("--set", "ingest.source="+filepath.Join(tmp, "nowhere"))...)...)
	jobs = submitted(r.stderr)
	ingest := jobs["ingest"]
	if r.code != 1 || len(jobs) != 7 || !strings.Contains(r.stderr, "stage ingest failed: slurm job "+ingest+" FAILED") ||
		!strings.Contains(r.stderr, "exit code 1:0") || !strings.Contains(r.stderr, "nowhere") {
		t.Errorf("a failing ingest: want exit 1 naming job %s, its state, exit code and log; %s", ingest, r)
	}
	delete(jobs, "ingest")
	for id, s := range states(t, values(jobs)...) {
		if s != "CANCELLED DependencyNeverSatisfied" {
			t.Errorf("downstream job %s: %s, want CANCELLED DependencyNeverSatisfied", id, s)
		}
	}
	for stage, id := range jobs {
		if _, err := os.Stat(filepath.Join(onSlurm, ".siamese", "slurm", stage+"-"+id+".out")); err == nil {
			t.Errorf("downstream job %s of %s ran", id, stage)
		}
	}
	sameFiles(t, local, onSlurm, files) // the last good outputs stay
}

// TestSlurmResume cancels the train job once its first epoch's checkpoint
// is on disk (six epochs leave scancel seconds to land); a rerun resumes it
// from its checkpoint and ends with the weights of a run that was not
// interrupted.
func TestSlurmResume(t *testing.T) {
	cluster(t)
	tmp := t.TempDir()
	clean, cancelled := filepath.Join(tmp, "clean"), filepath.Join(tmp, "cancelled")
	args := append([]string{"run", "--executor", "slurm"},
		small("--set", "triplets.per_class=300", "--set", "train.epochs=6", "--set", "train.patience=10")...)
	cmd := siamese(cancelled, args...)
	var out, errOut syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(cancelled, "train", "train.log")
	// Cancel once the first epoch's checkpoint is on disk (it appears whole,
	// renamed into place), early in epoch 2: the epoch's log line comes as
	// the checkpoint starts its write in the background, too soon.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if m, _ := filepath.Glob(filepath.Join(cancelled, ".siamese", "state", "train-*", "checkpoint.gob")); len(m) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no checkpoint after the first epoch:\n%s", errOut.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	train := submitted(errOut.String())["train"]
	if err := exec.Command("scancel", train).Run(); err != nil {
		t.Fatalf("scancel %s: %v", train, err)
	}
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 ||
		!strings.Contains(errOut.String(), "stage train failed: slurm job "+train+" CANCELLED") {
		t.Fatalf("the run whose train job was cancelled: %v\n%s", err, errOut.String())
	}
	// The log must show training under way, or nothing can be told of
	// when the cancel landed.
	data, err := os.ReadFile(logFile)
	if err != nil || !strings.Contains(string(data), " epoch=1 ") {
		t.Fatalf("cannot tell when training was cancelled: its log %s (%v) shows no first epoch:\n%s", logFile, err, data)
	}
	if strings.Contains(string(data), " epoch=6 ") {
		t.Fatalf("training was cancelled only after its last epoch:\n%s", data)
	}

	r := runSiamese(t, cancelled, args...)
	if jobs := submitted(r.stderr); r.code != 0 || len(jobs) != 2 || jobs["train"] == "" || jobs["evaluate"] == "" {
		t.Fatalf("rerun: want train and evaluate submitted; %s", r)
	}
	t.Logf("the rerun:\n%s", r.stderr)
	if data, _ := os.ReadFile(logFile); !strings.Contains(string(data), "resumed from a checkpoint") {
		t.Errorf("the rerun did not resume:\n%s", data)
	}
	if r := runSiamese(t, clean, append([]string{"run"}, args[3:]...)...); r.code != 0 {
		t.Fatalf("uninterrupted run: %s", r)
	}
	sameFiles(t, clean, cancelled, []string{"train/model/W0.npy", "train/model/W1.npy", "train/model/W2.npy",
		"train/model/b0.npy", "train/model/b1.npy", "train/model/b2.npy"})
}

// TestSlurmInterruptAndDetach: a killed submitter's jobs hold the root;
// SIGTERM to a waiting submitter cancels its jobs; a detached run is shown
// by status, refuses a second submission while its jobs are pending or
// running, and gets recorded once they end.
func TestSlurmInterruptAndDetach(t *testing.T) {
	cluster(t)
	root := filepath.Join(t.TempDir(), "out")
	args := append([]string{"run", "--executor", "slurm"}, small()...)
	start := func() (*exec.Cmd, *syncBuffer, map[string]string) {
		cmd := siamese(root, args...)
		var out, errOut syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(time.Minute); len(submitted(errOut.String())) < 7; {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("the run did not submit its jobs:\n%s", errOut.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		return cmd, &errOut, submitted(errOut.String())
	}

	// A waiting submitter that is killed outright leaves its jobs holding
	// the root.
	cmd, _, jobs := start()
	cmd.Process.Kill()
	cmd.Wait()
	if r := runSiamese(t, root, args...); r.code != 1 || !strings.Contains(r.stderr, "hold "+root) || !strings.Contains(r.stderr, jobs["evaluate"]) {
		t.Errorf("a run while a killed submitter's jobs are pending: want exit 1 naming them; %s", r)
	}
	if err := exec.Command("scancel", values(jobs)...).Run(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); len(live(t, values(jobs)...)) > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("scancel left %v", states(t, values(jobs)...))
		}
		time.Sleep(200 * time.Millisecond)
	}

	cmd, errOut, jobs := start()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
		t.Errorf("the interrupted run: %v, want a failure\n%s", err, errOut.String())
	}
	if l := live(t, values(jobs)...); len(l) > 0 {
		t.Errorf("jobs %v of the interrupted run are still in squeue: %v", l, states(t, l...))
	}

	r := runSiamese(t, root, append(args, "--detach")...)
	if r.code != 0 || !strings.Contains(r.stdout, "detached: slurm jobs") {
		t.Fatalf("detached run: %s", r)
	}
	jobs = submitted(r.stderr)
	if len(jobs) < 2 || jobs["(record)"] == "" || jobs["evaluate"] == "" {
		t.Fatalf("detached run: want the stale stages' and a record job; %s", r)
	}
	st := runSiamese(t, root, append([]string{"status"}, small()[1:]...)...)
	if st.code != 0 || !strings.Contains(st.stdout, "slurm jobs of the detached run") || !strings.Contains(st.stdout, jobs["evaluate"]) {
		t.Errorf("status during the detached run: %s", st)
	}
	second := runSiamese(t, root, args...)
	if second.code != 1 || !strings.Contains(second.stderr, jobs["(record)"]) {
		t.Errorf("a second submission during the detached run: want exit 1 naming its jobs; %s", second)
	}
	for deadline := time.Now().Add(3 * time.Minute); len(live(t, values(jobs)...)) > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("the detached run's jobs did not end: %v", states(t, values(jobs)...))
		}
		time.Sleep(500 * time.Millisecond)
	}
	runs := runSiamese(t, root, "runs")
	t.Logf("status during the detached run:\n%s\nthe second submission:\n%s\nruns:\n%s", st.stdout, second.stderr, runs.stdout)
	lines := strings.Split(strings.TrimSpace(runs.stdout), "\n")
	if runs.code != 0 || len(lines) != 3 || !strings.Contains(lines[2], " ok ") {
		t.Errorf("want the interrupted and the detached run recorded, the last ok: %s", runs)
	}
	r = runSiamese(t, root, args...)
	if r.code != 0 || len(submitted(r.stderr)) != 0 || strings.Count(r.stdout, "cached") != 7 {
		t.Errorf("a submission after the detached run: want it accepted, with nothing to submit; %s", r)
	}
}

// syncBuffer is a bytes.Buffer that a process writes while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
