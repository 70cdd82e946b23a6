// Command gen is `make docs`: it runs the commands whose output the pages
// quote, records what they print in docs/generated/, and rewrites the
// pages' marked blocks from it (package docs).
//
//	go run ./internal/docs/gen -bin bin/siamese -build "pure-Go build"
//
// The full default run is `siamese run` on the repository's pipeline.yaml
// (what `make run` does: cached when out/ is up to date); the small run
// and the scoring run in a temporary directory holding a copy of
// pipeline.yaml, with an artifacts root there in place of /tmp/small.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/siamese-pipeline/siamese/internal/docs"
)

func main() {
	bin := flag.String("bin", "bin/siamese", "the siamese binary")
	build := flag.String("build", "pure-Go build", "which build it is, as the pages say")
	pages := flag.Bool("pages-only", false, "only rewrite the pages' blocks from what is recorded (make bench records its scale table so)")
	flag.Parse()
	if *pages {
		if err := docs.Write("."); err != nil {
			fmt.Fprintln(os.Stderr, "docs:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*bin, *build); err != nil {
		fmt.Fprintln(os.Stderr, "docs:", err)
		os.Exit(1)
	}
}

func run(bin, build string) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	gen := docs.GeneratedDir
	if err := os.MkdirAll(gen, 0o755); err != nil {
		return err
	}
	// The full default run.
	if _, errOut, code := siamese(bin, "", "run"); code != 0 {
		return fmt.Errorf("siamese run: exit %d\n%s", code, errOut)
	}
	metrics, err := os.ReadFile(filepath.Join("out", "evaluate", "metrics.json"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(gen, docs.MetricsFile), metrics, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(gen, docs.BuildFile), []byte(build+"\n"), 0o644); err != nil {
		return err
	}

	// The stages, as the repository's pipeline.yaml declares them.
	out, errOut, code := siamese(bin, "", "dag")
	if code != 0 {
		return fmt.Errorf("siamese dag: exit %d\n%s", code, errOut)
	}
	dag, err := docs.Dag(out)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(gen, docs.DagFile), []byte(dag), 0o644); err != nil {
		return err
	}

	// The small run, in a directory of its own standing for /tmp/small.
	tmp, err := os.MkdirTemp("", "siamese-docs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// The commands read pipeline.yaml from where they run.
	yaml, err := os.ReadFile("pipeline.yaml")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "pipeline.yaml"), yaml, 0o644); err != nil {
		return err
	}
	small := filepath.Join(tmp, "small")
	last, err := docs.SmallRun(func(args ...string) (string, string, int) {
		return siamese(bin, tmp, docs.Swap(args, "/tmp/small", small)...)
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(gen, docs.SmallRunFile), []byte(last), 0o644); err != nil {
		return err
	}
	table, err := docs.Score(tmp, small, func(args ...string) (string, string, int) {
		return siamese(bin, tmp, docs.Swap(args, "/tmp/small", small)...)
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(gen, docs.ScoreFile), []byte(table), 0o644); err != nil {
		return err
	}
	return docs.Write(".")
}

// siamese runs bin with args in dir ("" for here).
func siamese(bin, dir string, args ...string) (string, string, int) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return out.String(), errOut.String(), exit.ExitCode()
	case err != nil:
		return out.String(), err.Error(), -1
	}
	return out.String(), errOut.String(), 0
}
