package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/stages"
)

// TestKilledAnywhere SIGKILLs the program at 30 moments of small runs and
// reruns it after each: every rerun ends with the outputs of an
// uninterrupted run, byte for byte. At least a third of the kills land
// inside the commit of a stage's outputs (the program pauses after moving
// each output into place and says so); the others at a random time. A run
// aims at one of the commits of its first stage's outputs; one that ends
// before (a run that needed no rerun) is not a kill, and the next run aims
// at a commit again.
func TestKilledAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the small pipeline some sixty times")
	}
	src := syntheticSource(t)
	tmp := t.TempDir()
	ref, root := filepath.Join(tmp, "ref"), filepath.Join(tmp, "killed")
	begin := time.Now()
	if code, out, errOut := runProgram(t, ".", smallRun(src, ref)...); code != 0 {
		t.Fatalf("the uninterrupted run: exit %d\n%s%s", code, out, errOut)
	}
	full := time.Since(begin)
	if code, out, errOut := runProgram(t, ".", smallRun(src, root)...); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	p, err := pipeline.Load(repoFile("pipeline.yaml"), stages.Registry(), ref)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	outs := map[string]int{} // each stage's outputs: the commits a rerun from it makes first
	for _, s := range p.Stages {
		names = append(names, s.Name)
		outs[s.Name] = len(s.Outs)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	kills, inCommit := 0, 0
	try := 0
	for ; kills < 30; try++ {
		if try == 100 {
			t.Fatalf("only %d of 100 runs were killed before they ended", kills)
		}
		// Rerun from a random stage; kill at the nth commit, or at a time.
		from := names[rng.IntN(len(names))]
		args := append(smallRun(src, root), "--from", from)
		cmd := program(args...)
		cmd.Env = append(cmd.Env, pauseEnv+"=40ms")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		commits := make(chan string, 100)
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "test: committed ") {
					commits <- sc.Text()
				}
			}
			close(commits)
		}()
		// Keeps inCommit*3 >= kills-2, so 30 kills hold 10 inside a commit.
		atCommit := inCommit*3 <= kills
		nth := rng.IntN(max(1, min(4, outs[from]))) // a commit the run reaches
		timer := time.After(time.Duration(rng.Int64N(int64(full))))
		what := ""
	wait:
		for {
			select {
			case c, ok := <-commits:
				if !ok {
					break wait
				}
				if atCommit && nth == 0 {
					cmd.Process.Signal(syscall.SIGKILL)
					what = "inside the commit, after " + strings.TrimPrefix(c, "test: committed ")
					break wait
				}
				nth--
			case <-timer:
				if !atCommit {
					cmd.Process.Signal(syscall.SIGKILL)
					what = "at a random time"
					break wait
				}
			}
		}
		cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			continue // it ended before the kill
		}
		kills++
		if strings.HasPrefix(what, "inside") {
			inCommit++
		}
		code, out, errOut := runProgram(t, ".", smallRun(src, root)...)
		if code != 0 {
			t.Fatalf("kill %d (from %s, %s): the rerun: exit %d\n%s%s", kills, from, what, code, out, errOut)
		}
		if diff := sameOutputs(t, p, ref, root); diff != "" {
			t.Fatalf("kill %d (from %s, %s): after the rerun %s\nrerun:\n%s", kills, from, what, diff, out)
		}
	}
	t.Logf("%d kills in %d runs, %d inside a commit", kills, try, inCommit)
}

// sameOutputs compares every output of the pipeline under two roots and
// says how the first difference differs ("" if none). The training
// history's seconds column is a time, and left out.
func sameOutputs(t *testing.T, p *pipeline.Pipeline, a, b string) string {
	for _, s := range p.Stages {
		for _, o := range s.Outs {
			var files []string
			base := filepath.Join(a, filepath.FromSlash(o.Path))
			filepath.Walk(base, func(path string, info os.FileInfo, err error) error {
				if err == nil && info.Mode().IsRegular() {
					files = append(files, path)
				}
				return nil
			})
			if len(files) == 0 {
				return o.Path + " is missing from the reference"
			}
			for _, fa := range files {
				rel, _ := filepath.Rel(a, fa)
				fb := filepath.Join(b, rel)
				if filepath.Base(fa) == "history.arrow" {
					if d := sameTable(fa, fb, "seconds"); d != "" {
						return rel + ": " + d
					}
					continue
				}
				x, errA := os.ReadFile(fa)
				y, errB := os.ReadFile(fb)
				if errA != nil || errB != nil || !bytes.Equal(x, y) {
					return fmt.Sprintf("%s differs (%v, %v)", rel, errA, errB)
				}
			}
			if o.Dir {
				var got []string
				filepath.Walk(filepath.Join(b, filepath.FromSlash(o.Path)), func(path string, info os.FileInfo, err error) error {
					if err == nil && info.Mode().IsRegular() {
						got = append(got, strings.Replace(path, b, a, 1))
					}
					return nil
				})
				if !slices.Equal(got, files) {
					return fmt.Sprintf("%s holds %v, want %v", o.Path, got, files)
				}
			}
		}
	}
	return ""
}

// sameTable compares two Arrow tables column by column, but for skip.
func sameTable(a, b, skip string) string {
	ta, err := artifacts.ReadArrow(a)
	if err != nil {
		return err.Error()
	}
	tb, err := artifacts.ReadArrow(b)
	if err != nil {
		return err.Error()
	}
	if !slices.Equal(ta.Names(), tb.Names()) || ta.NumRows() != tb.NumRows() {
		return fmt.Sprintf("columns %v and %v, %d and %d rows", ta.Names(), tb.Names(), ta.NumRows(), tb.NumRows())
	}
	for _, n := range ta.Names() {
		if n == skip {
			continue
		}
		for _, get := range []func(*artifacts.Table) (any, error){
			func(t *artifacts.Table) (any, error) { return t.Int64(n) },
			func(t *artifacts.Table) (any, error) { return t.Float64(n) },
		} {
			x, errA := get(ta)
			y, errB := get(tb)
			if errA == nil && (errB != nil || fmt.Sprint(x) != fmt.Sprint(y)) {
				return "column " + n + " differs"
			}
		}
	}
	return ""
}
