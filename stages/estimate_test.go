package stages

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/siamese-pipeline/siamese/internal/testenv"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/runner"
)

const fashionDir = "/usr/share/datasets/fashion-mnist"

// TestEstimatesMatchMeasured runs each stage of the repository's pipeline
// in a process of its own at two sizes of the real Fashion-MNIST, and
// compares what the preflight check estimates from the stage's params and
// its inputs' sizes (Spec.Resources) with what the stage then took: its
// outputs' sizes on disk and the process's peak RSS. An estimate must not
// fall short of what was measured, nor overstate it wildly.
func TestEstimatesMatchMeasured(t *testing.T) {
	if root := os.Getenv("SIAMESE_ESTIMATE_HELPER"); root != "" {
		helperRun(t, root, os.Getenv("SIAMESE_ESTIMATE_STAGE"), strings.Split(os.Getenv("SIAMESE_ESTIMATE_SETS"), "\n"))
		return
	}
	if testing.Short() {
		t.Skip("runs the pipeline twice, a stage per process")
	}
	if _, err := os.Stat(fashionDir); err != nil {
		testenv.Missing(t, fmt.Sprintf("Fashion-MNIST not installed at %s (Debian's dataset-fashion-mnist)", fashionDir))
	}
	for _, perClass := range []int{300, 3000} {
		t.Run(fmt.Sprint("per_class ", perClass), func(t *testing.T) {
			root := t.TempDir()
			sets := []string{fmt.Sprintf("triplets.per_class=%d", perClass), "train.epochs=1", "evaluate.queries=2000"}
			p := load(t, root, sets)
			for _, s := range p.Stages {
				if s.Name == "pictures" {
					continue // a picture; nothing grows with the data
				}
				in := pipeline.Sizes{}
				for name, ref := range s.Inputs {
					in[name] = sizeOf(t, filepath.Join(root, ref.Out.Path))
				}
				need := s.Spec.Resources(s.Params, in)
				rss := runAlone(t, root, s.Name, sets)
				t.Logf("%-9s memory: estimate %6.1f MB, peak RSS %6.1f MB", s.Name, mb(need.Memory), mb(rss))
				if need.Memory < rss || need.Memory > 4*rss+64<<20 {
					t.Errorf("stage %s: memory estimate %.1f MB against a peak RSS of %.1f MB", s.Name, mb(need.Memory), mb(rss))
				}
				for _, o := range s.Outs {
					got, want := sizeOf(t, filepath.Join(root, o.Path)), need.Outputs[o.Name()]
					t.Logf("%-9s %-40s estimate %8.2f MB, written %8.2f MB", s.Name, o.Name(), mb(want), mb(got))
					if got > 1<<20 && (want < got || want > 2*got) {
						t.Errorf("stage %s: %s: estimate %.2f MB, written %.2f MB", s.Name, o.Name(), mb(want), mb(got))
					}
				}
			}
		})
	}
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

func load(t *testing.T, root string, sets []string) *pipeline.Pipeline {
	t.Helper()
	p, err := pipeline.Load("../pipeline.yaml", Registry(), root)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range append([]string{"ingest.source=" + fashionDir}, sets...) {
		if err := p.Set(s); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// runAlone runs one stage in a child process and returns its peak RSS.
func runAlone(t *testing.T, root, stage string, sets []string) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestEstimatesMatchMeasured$")
	cmd.Env = append(os.Environ(), "SIAMESE_ESTIMATE_HELPER="+root, "SIAMESE_ESTIMATE_STAGE="+stage,
		"SIAMESE_ESTIMATE_SETS="+strings.Join(sets, "\n"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("stage %s: %v\n%s", stage, err, out)
	}
	return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
}

func helperRun(t *testing.T, root, stage string, sets []string) {
	p := load(t, root, sets)
	r := &runner.Runner{Pipeline: p, Stages: Registry()}
	if _, err := r.Run(context.Background(), runner.Options{Only: stage, Jobs: 1}); err != nil {
		t.Fatal(err)
	}
}

func sizeOf(t *testing.T, path string) int64 {
	t.Helper()
	var total int64
	err := filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
}
