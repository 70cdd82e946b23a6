// Command mutate is the mutation test of `make mutate`: for each package
// it makes the mutants of its non-test Go files (see package mutate), one
// at a time, runs the package's tests on each through go test -overlay
// (the source tree is never written), and counts the mutants the tests
// kill. It writes the per-package kill rates and every surviving mutant,
// with the reason kept for it in the reasons file, to the output file.
//
//	go run ./internal/mutate/cmd/mutate [-max 60] [-o bench/results/mutants.txt] [pkg ...]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/siamese-pipeline/siamese/internal/mutate"
)

// Packages are those whose mistakes cost users most.
var Packages = []string{"runner", "executor/slurm", "scoring", "models", "gate", "metrics", "stages/evaluate", "artifacts", "model"}

type outcome string

const (
	killed   outcome = "killed"
	survived outcome = "survived"
	timedOut outcome = "timeout" // counted as killed: the tests noticed, by hanging
	invalid  outcome = "invalid" // does not compile: not counted
)

type result struct {
	m       mutate.Mutant
	outcome outcome
	test    string // the first test that failed
}

func main() {
	dir := flag.String("dir", ".", "the module's root")
	out := flag.String("o", "bench/results/mutants.txt", "where the kill rates and the surviving mutants go")
	reasons := flag.String("reasons", "bench/mutants-reasons.txt", "the reasons kept for surviving mutants")
	maxPer := flag.Int("max", 0, "at most this many mutants per package, spread evenly over its files (0: all)")
	ops := flag.String("ops", strings.Join(mutate.Operators, ","), "the kinds of mutant to make")
	jobs := flag.Int("j", 1, "mutants tested at once")
	list := flag.Bool("list", false, "count the mutants of each package and stop")
	flag.Parse()
	pkgs := flag.Args()
	if len(pkgs) == 0 {
		pkgs = Packages
	}
	if err := run(*dir, *out, *reasons, *maxPer, strings.Split(*ops, ","), *jobs, *list, pkgs); err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(1)
	}
}

func run(dir, out, reasonsFile string, maxPer int, ops []string, jobs int, list bool, pkgs []string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	reasons, err := readReasons(reasonsFile)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "siamese-mutate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	var summary []string
	var all []result
	for _, pkg := range pkgs {
		ms, err := mutants(dir, pkg, ops)
		if err != nil {
			return err
		}
		ms = sample(ms, maxPer)
		if list {
			fmt.Printf("%-16s %d mutants\n", pkg, len(ms))
			continue
		}
		base := time.Now()
		if res := goTest(dir, pkg, "", 10*time.Minute); res.outcome != survived {
			return fmt.Errorf("%s: the tests fail without any mutant (%s %s)", pkg, res.outcome, res.test)
		}
		limit := 3*time.Since(base) + 20*time.Second
		fmt.Fprintf(os.Stderr, "%s: %d mutants, baseline %v, limit %v each\n", pkg, len(ms), time.Since(base).Round(time.Second), limit.Round(time.Second))
		results := make([]result, len(ms))
		var wg sync.WaitGroup
		next := make(chan int)
		for range max(1, jobs) {
			wg.Go(func() {
				for i := range next {
					results[i] = test(dir, tmp, pkg, ms[i], i, limit)
					fmt.Fprintf(os.Stderr, "  %-8s %s %s\n", results[i].outcome, ms[i], results[i].test)
				}
			})
		}
		for i := range ms {
			next <- i
		}
		close(next)
		wg.Wait()
		all = append(all, results...)
		summary = append(summary, rates(pkg, results))
	}
	if list {
		return nil
	}
	return write(out, start, maxPer, ops, summary, all, reasons)
}

// mutants returns the mutants of the package's Go files of this build.
func mutants(dir, pkg string, ops []string) ([]mutate.Mutant, error) {
	cmd := exec.Command("go", "list", "-f", `{{join .GoFiles "\n"}}`, "./"+pkg)
	cmd.Dir = dir
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list ./%s: %w", pkg, err)
	}
	var out []mutate.Mutant
	for _, name := range strings.Fields(string(b)) {
		rel := filepath.ToSlash(filepath.Join(pkg, name))
		src, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			return nil, err
		}
		ms, err := mutate.Find(rel, src)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if slices.Contains(ops, m.Op) {
				out = append(out, m)
			}
		}
	}
	return out, nil
}

// sample keeps n of ms, evenly spread, in order.
func sample(ms []mutate.Mutant, n int) []mutate.Mutant {
	if n <= 0 || len(ms) <= n {
		return ms
	}
	out := make([]mutate.Mutant, n)
	for i := range out {
		out[i] = ms[i*len(ms)/n]
	}
	return out
}

// test runs the package's tests on mutant m.
func test(dir, tmp, pkg string, m mutate.Mutant, i int, limit time.Duration) result {
	file := filepath.Join(dir, filepath.FromSlash(m.File))
	src, err := os.ReadFile(file)
	if err != nil {
		return result{m: m, outcome: invalid, test: err.Error()}
	}
	mutated := filepath.Join(tmp, fmt.Sprintf("%d-%s", i, filepath.Base(file)))
	overlay := filepath.Join(tmp, fmt.Sprintf("%d-overlay.json", i))
	data, _ := json.Marshal(map[string]map[string]string{"Replace": {file: mutated}})
	if err := errors.Join(os.WriteFile(mutated, m.Apply(src), 0o644), os.WriteFile(overlay, data, 0o644)); err != nil {
		return result{m: m, outcome: invalid, test: err.Error()}
	}
	defer os.Remove(mutated)
	defer os.Remove(overlay)
	res := goTest(dir, pkg, overlay, limit)
	res.m = m
	return res
}

var failLine = regexp.MustCompile(`--- FAIL: (\S+)`)

// goTest runs the package's short tests, with overlay if it is not "".
func goTest(dir, pkg, overlay string, limit time.Duration) result {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	args := []string{"test", "-short", "-count=1", "-failfast", "-vet=off", "-timeout", limit.String()}
	if overlay != "" {
		args = append(args, "-overlay", overlay)
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "./"+pkg)...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	b, err := cmd.CombinedOutput()
	text := string(b)
	switch {
	case err == nil:
		return result{outcome: survived}
	case ctx.Err() != nil || strings.Contains(text, "panic: test timed out"):
		return result{outcome: timedOut, test: "(timed out)"}
	case strings.Contains(text, "[build failed]") || strings.Contains(text, "[setup failed]"):
		return result{outcome: invalid}
	}
	if f := failLine.FindStringSubmatch(text); f != nil {
		return result{outcome: killed, test: f[1]}
	}
	if strings.Contains(text, "panic:") {
		return result{outcome: killed, test: "(panic)"}
	}
	return result{outcome: killed, test: "(failed)"}
}

func rates(pkg string, rs []result) string {
	n := map[outcome]int{}
	for _, r := range rs {
		n[r.outcome]++
	}
	dead := n[killed] + n[timedOut]
	rate := 0.0
	if dead+n[survived] > 0 {
		rate = 100 * float64(dead) / float64(dead+n[survived])
	}
	return fmt.Sprintf("%-16s %5.1f%%  killed %3d (of which timed out %d)  survived %3d  not compiling %3d",
		pkg, rate, dead, n[timedOut], n[survived], n[invalid])
}

// readReasons reads "key<TAB>reason" lines; # starts a comment.
func readReasons(name string) (map[string]string, error) {
	r := map[string]string{}
	f, err := os.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		if k, v, ok := strings.Cut(line, "\t"); ok {
			r[k] = strings.TrimSpace(v)
		}
	}
	return r, sc.Err()
}

// write writes the kill rates and the survivors, each with its reason
// and its key (the reasons file's first column).
func write(out string, start time.Time, maxPer int, ops []string, summary []string, all []result, reasons map[string]string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# make mutate: %d mutants in %v; at most %d per package (0: all); operators %s\n",
		len(all), time.Since(start).Round(time.Second), maxPer, strings.Join(ops, ","))
	fmt.Fprintln(&b, "# kill rate = killed / (killed + survived); mutants that do not compile are not counted")
	for _, s := range summary {
		fmt.Fprintln(&b, s)
	}
	unexplained := 0
	fmt.Fprintln(&b, "\n# surviving mutants: location, change, reason; then the key the reasons file knows it by")
	for _, r := range all {
		if r.outcome != survived {
			continue
		}
		reason, ok := reasons[r.m.Key()]
		if !ok {
			reason, unexplained = "NO REASON YET", unexplained+1
		}
		fmt.Fprintf(&b, "%s  (%s)\n    reason: %s\n    key: %s\n", r.m, r.m.Func, reason, r.m.Key())
	}
	fmt.Fprintf(&b, "\n# %d surviving mutants without a reason\n", unexplained)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	fmt.Print(strings.Join(summary, "\n") + "\n")
	fmt.Printf("%d surviving mutants without a reason; see %s\n", unexplained, out)
	return os.WriteFile(out, []byte(b.String()), 0o644)
}
