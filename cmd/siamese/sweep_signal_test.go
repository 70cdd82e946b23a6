package main

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/sweep"
)

// TestSweepKilledThenResumed kills a sweep with SIGKILL at a random
// point and runs the same command again: the variants done before the
// kill are not run again, and the finished table equals an uninterrupted
// sweep's.
func TestSweepKilledThenResumed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the 3 × 3 sweep twice")
	}
	want, args := sweepOnce(t)
	home := filepath.Join(t.TempDir(), "out")
	full := append([]string{"-f", repoFile("pipeline.yaml"), "--artifacts", home}, args...)
	cmd := program(full...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(sweep.Path(home, "lr"), sweep.StateFile)
	awaitLog(t, cmd, &out, state, `"variants"`, "the sweep never started")
	delay := time.Duration(rand.IntN(4000)) * time.Millisecond
	time.Sleep(delay)
	cmd.Process.Kill()
	cmd.Wait()
	before, err := sweep.ReadState(sweep.Path(home, "lr"))
	if err != nil {
		t.Fatal(err)
	}
	doneRuns := map[string]string{}
	for _, v := range before.Variants {
		if v.Status == sweep.Done {
			doneRuns[v.ID] = v.Run
		}
	}
	t.Logf("killed %v after the sweep started, with %d of 9 variants done", delay, len(doneRuns))

	code, stdout, errOut := runProgram(t, ".", full...)
	if code != 0 {
		t.Fatalf("the sweep again: exit %d\n%s%s", code, stdout, errOut)
	}
	after, err := sweep.ReadState(sweep.Path(home, "lr"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range after.Variants {
		if run, ok := doneRuns[v.ID]; ok && v.Run != run {
			t.Errorf("variant %s, done before the kill, ran again", v.ID)
		}
	}
	if got, want := finishedTable(t, home, "lr"), finishedTable(t, want, "lr"); !reflect.DeepEqual(got, want) {
		t.Errorf("the resumed sweep's table differs from an uninterrupted sweep's:\n%+v\n%+v", got, want)
	}
}

// TestSweepRefusedWhileRunningAndSIGTERM starts a sweep whose stages
// pause at each commit, runs a second sweep of the same name (refused),
// then sends the first SIGTERM: it exits with 143 within seconds, no
// variant left marked as running, and says what will run next time.
func TestSweepRefusedWhileRunningAndSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a sweep")
	}
	home := filepath.Join(t.TempDir(), "out")
	full := append([]string{"-f", repoFile("pipeline.yaml"), "--artifacts", home}, sweepArgs(t)...)
	cmd := program(full...)
	cmd.Env = append(cmd.Env, pauseEnv+"=200ms")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	awaitLog(t, cmd, &out, filepath.Join(sweep.Path(home, "lr"), sweep.StateFile), `"variants"`, "the sweep never started")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		logs, _ := filepath.Glob(filepath.Join(sweep.Path(home, "lr"), "variants", "*", "triplets", "triplets.log"))
		if len(logs) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no variant reached triplets")
		}
	}

	code, _, errOut := runProgram(t, ".", full...)
	if code != 1 || !strings.Contains(errOut, "sweep lr is running already") {
		t.Errorf("a second sweep lr: exit %d, want 1: %s", code, errOut)
	}
	// A sweep of another name is not refused by this one's lock (it is
	// only checked for usage here, to stay quick).
	if code, _, errOut := runProgram(t, ".", "-f", repoFile("pipeline.yaml"), "--artifacts", home, "sweep", "other"); code != 2 || !strings.Contains(errOut, "nothing to sweep") {
		t.Errorf("sweep other: exit %d: %s", code, errOut)
	}

	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	took := time.Since(sent)
	if code := cmd.ProcessState.ExitCode(); code != 143 || took > 5*time.Second {
		t.Fatalf("after SIGTERM: exit %d after %v, want 143 within seconds:\n%s", code, took, out.String())
	}
	t.Logf("SIGTERM %v after a variant reached triplets; the sweep said:\n%s", time.Since(sent), out.String())
	if !strings.Contains(out.String(), "will run on the next sweep lr") {
		t.Errorf("the interrupted sweep does not say what is left:\n%s", out.String())
	}
	st, err := sweep.ReadState(sweep.Path(home, "lr"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range st.Variants {
		if v.Status == sweep.Failed {
			t.Errorf("variant %s marked failed after SIGTERM: %s", v.ID, v.Error)
		}
	}
	// The lock went with the process: the sweep can run again (here with
	// a dry look only: show reads the state).
	if code, stdout, errOut := runProgram(t, ".", "-f", repoFile("pipeline.yaml"), "--artifacts", home, "sweep", "show", "lr"); code != 0 || !strings.Contains(stdout, "9 variants") {
		t.Errorf("show after SIGTERM: exit %d\n%s%s", code, stdout, errOut)
	}
}
