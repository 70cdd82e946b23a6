package slurm_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/sweep"
)

// TestSlurmSweep runs a 3 learning rates × 3 seeds sweep, small, locally
// and on the cluster, with one variant's root made unwritable where its
// evaluate stage writes: on the cluster every variant's stale stages are
// submitted at once, one job per stage per variant; the upstream stages
// run once (the other variants' jobs take their outputs); the variant
// made to fail fails alone; every other variant's metrics.json is the
// local sweep's byte for byte.
func TestSlurmSweep(t *testing.T) {
	cluster(t)
	tmp := t.TempDir()
	local, onSlurm := filepath.Join(tmp, "local"), filepath.Join(tmp, "slurm")
	args := []string{"sweep", "s", "--set", "ingest.source=" + filepath.Join(shared, "fashion"),
		"--set", "triplets.per_class=60", "--set", "train.epochs=1", "--set", "train.hidden=[32, 16]",
		"--set", "evaluate.queries=200", "--set", "evaluate.pca_points=100",
		"--set", "train.lr=1e-3,1.25e-3,1.5e-3", "--set", "train.seed=1,2,3"}
	if r := runSiamese(t, local, args...); r.code != 0 {
		t.Fatalf("local sweep: %s", r)
	}
	// The variant lr=1.5e-3 seed=3, whose evaluate cannot write its outputs.
	var axes []sweep.Axis
	for i := 2; i < len(args); i += 2 {
		ax, err := sweep.ParseAxis(args[i+1])
		if err != nil {
			t.Fatal(err)
		}
		axes = append(axes, ax)
	}
	grid, err := sweep.Expand(axes)
	if err != nil {
		t.Fatal(err)
	}
	broken := sweep.VariantID(grid[len(grid)-1])
	brokenRoot := sweep.VariantRoot(sweep.Path(onSlurm, "s"), broken)
	if err := os.MkdirAll(brokenRoot, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(brokenRoot, "evaluate"), []byte("not a directory\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	r := runSiamese(t, onSlurm, append(args, "--executor", "slurm")...)
	if r.code != 1 || !strings.Contains(r.stderr, "1 variant(s) failed: "+broken) {
		t.Fatalf("slurm sweep: want exit 1 with variant %s failed alone; %s", broken, r)
	}
	// One job per stage per variant.
	sub := regexp.MustCompile(`msg="(\S+)\s+job (\d+)\s+submitted.*variant=(\w+)`)
	perVariant := map[string]int{}
	for _, m := range sub.FindAllStringSubmatch(r.stderr, -1) {
		perVariant[m[3]]++
	}
	if len(perVariant) != 9 {
		t.Errorf("jobs were submitted for %d variants, want 9: %v", len(perVariant), perVariant)
	}
	for v, n := range perVariant {
		if n != 7 {
			t.Errorf("variant %s: %d jobs, want 7 (one per stale stage)", v, n)
		}
	}
	st, err := sweep.ReadState(sweep.Path(onSlurm, "s"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range st.Variants {
		if v.ID == broken {
			if v.Status != sweep.Failed {
				t.Errorf("the broken variant is %s", v.Status)
			}
			continue
		}
		if v.Status != sweep.Done {
			t.Errorf("variant %s: %s (%s)", v.ID, v.Status, v.Error)
			continue
		}
		a, errA := os.ReadFile(filepath.Join(sweep.VariantRoot(sweep.Path(local, "s"), v.ID), "evaluate", "metrics.json"))
		b, errB := os.ReadFile(filepath.Join(sweep.VariantRoot(sweep.Path(onSlurm, "s"), v.ID), "evaluate", "metrics.json"))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("variant %s: metrics.json differs from the local sweep's (%v, %v)", v.ID, errA, errB)
		}
	}
	ran, _, err := sweep.StageRuns(sweep.Path(onSlurm, "s"))
	if err != nil {
		t.Fatal(err)
	}
	for stage, want := range map[string]int{"ingest": 1, "triplets": 1, "split": 1, "pictures": 1, "notebook": 1, "train": 9, "evaluate": 8} {
		if ran[stage] != want {
			t.Errorf("stage %s ran %d times on the cluster, want %d", stage, ran[stage], want)
		}
	}
}

// TestSlurmSweepDetachAndSIGTERM: a detached sweep submits every
// variant's jobs and returns; a second sweep of the same name is refused
// while they run; each variant's last job records it, and the sweep ends
// with every variant done. An attached sweep sent SIGTERM exits 143 and
// leaves no job in the queue.
func TestSlurmSweepDetachAndSIGTERM(t *testing.T) {
	cluster(t)
	home := filepath.Join(t.TempDir(), "out")
	args := []string{"sweep", "d", "--executor", "slurm", "--set", "ingest.source=" + filepath.Join(shared, "fashion"),
		"--set", "triplets.per_class=60", "--set", "train.epochs=1", "--set", "train.hidden=[32, 16]",
		"--set", "evaluate.queries=200", "--set", "evaluate.pca_points=100", "--set", "train.lr=1e-3,1.5e-3"}
	r := runSiamese(t, home, append(args, "--detach")...)
	if r.code != 0 || !strings.Contains(r.stdout, "detached: every variant's jobs are submitted") {
		t.Fatalf("detached sweep: %s", r)
	}
	if r := runSiamese(t, home, args...); r.code != 1 || !strings.Contains(r.stderr, "sweep d is running already: the cluster jobs") {
		t.Errorf("a second sweep while the detached one's jobs run: %s", r)
	}
	dir := sweep.Path(home, "d")
	for deadline := time.Now().Add(4 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
		st, err := sweep.ReadState(dir)
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, v := range st.Variants {
			if v.Status == sweep.Done && v.Run != "" && v.Metrics["roc_auc"] > 0 {
				done++
			}
			if v.Status == sweep.Failed {
				t.Fatalf("variant %s failed: %s", v.ID, v.Error)
			}
		}
		if done == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the detached sweep's variants were not recorded: %+v", st.Variants)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "report.html")); err != nil {
		t.Errorf("the record jobs wrote no sweep page: %v", err)
	}
	// Once its jobs have ended, the same sweep runs nothing again.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(500 * time.Millisecond) {
		r = runSiamese(t, home, args...)
		if r.code == 0 || time.Now().After(deadline) {
			break
		}
	}
	if r.code != 0 || strings.Contains(r.stdout, "variant ") || strings.Contains(r.stderr, "submitted") {
		t.Errorf("the sweep again: want nothing submitted; %s", r)
	}

	// Attached, with another learning rate: SIGTERM cancels every job.
	cmd := siamese(home, append(args[:len(args)-1], "train.lr=2e-3,3e-3")...)
	var out, errOut syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	jobRE := regexp.MustCompile(`job (\d+)\s+submitted`)
	var jobs []string
	for deadline := time.Now().Add(time.Minute); len(jobs) < 4; time.Sleep(10 * time.Millisecond) {
		jobs = nil
		for _, m := range jobRE.FindAllStringSubmatch(errOut.String(), -1) {
			jobs = append(jobs, m[1])
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the sweep did not submit its jobs:\n%s", errOut.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 143 {
		t.Errorf("after SIGTERM: exit %d, want 143\n%s%s", code, out.String(), errOut.String())
	}
	if l := live(t, jobs...); len(l) > 0 {
		t.Errorf("jobs %v of the interrupted sweep are still in squeue: %v", l, states(t, l...))
	}
}
