package ingest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/runner"
)

// countStage stands for the stages downstream of ingest: it counts the labels.
type countStage struct{}

func (countStage) Spec() pipeline.Spec {
	return pipeline.Spec{Version: "1", Inputs: []string{OutLabels}, Outputs: []string{"count.txt"}}
}

func (countStage) Run(ctx context.Context, env *runner.Env) error {
	labels, _, err := artifacts.ReadNPY[uint8](env.In(OutLabels))
	if err != nil {
		return err
	}
	return os.WriteFile(env.Out("count.txt"), []byte(strings.Repeat("x", len(labels))), 0o644)
}

const trackedPipeline = `stages:
  ingest:
    params: {source: SOURCE, dataset: DATASET}
    outs: [ingest/images.npy, ingest/labels.npy, ingest/classes.txt]
  count:
    deps: [ingest]
    outs: [count/count.txt]
`

// trackedRun runs the pipeline of ingest and a stage downstream of it,
// and returns each stage's outcome and reason.
func trackedRun(t *testing.T, file, root string, dryRun bool) map[string]string {
	t.Helper()
	reg := runner.Registry{"ingest": New(), "count": countStage{}}
	p, err := pipeline.Load(file, reg, root)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := (&runner.Runner{Pipeline: p, Stages: reg}).Run(context.Background(), runner.Options{DryRun: dryRun})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rep.Results {
		out[r.Stage] = string(r.Outcome) + ": " + r.Reason
	}
	return out
}

// TestTrackedDatasetFiles runs ingest under the runner and checks that
// the dataset files it read are its tracked sources: changing one byte
// of one reruns ingest and its downstream, naming the file; touching it
// reruns nothing.
func TestTrackedDatasetFiles(t *testing.T) {
	tests := []struct {
		dataset string
		files   map[string][]byte
		changed string // the file changed
		change  []byte
	}{
		{"fashion", fakeFiles(1), "t10k-labels-idx1-ubyte.gz",
			gz(idxFile(2049, []int{fakeTest}, []byte{1, 1, 2, 1}))},
		{"mnist", map[string][]byte{"mnist.npz": fakeNPZ(t, 1)}, "mnist.npz", fakeNPZ(t, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.dataset, func(t *testing.T) {
			useFake(t, 1)
			tmp := t.TempDir()
			src, root, file := filepath.Join(tmp, "src"), filepath.Join(tmp, "out"), filepath.Join(tmp, "pipeline.yaml")
			writeFiles(t, src, tt.files)
			yaml := strings.NewReplacer("SOURCE", src, "DATASET", tt.dataset).Replace(trackedPipeline)
			if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := trackedRun(t, file, root, false); got["ingest"] != "ran: never run" || got["count"] != "ran: never run" {
				t.Fatalf("first run: %v", got)
			}
			var rec runner.Record
			data, err := os.ReadFile(filepath.Join(root, pipeline.Internal, "stages", "ingest.json"))
			if err != nil || json.Unmarshal(data, &rec) != nil {
				t.Fatalf("ingest's record: %v", err)
			}
			var tracked []string
			for _, f := range rec.Sources {
				tracked = append(tracked, filepath.Base(f.Path))
			}
			var want []string
			for name := range tt.files {
				want = append(want, name)
			}
			slices.Sort(want)
			if !slices.Equal(tracked, want) {
				t.Errorf("tracked %v, want %v", tracked, want)
			}

			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(filepath.Join(src, tt.changed), later, later); err != nil {
				t.Fatal(err)
			}
			if got := trackedRun(t, file, root, false); got["ingest"] != "cached: " || got["count"] != "cached: " {
				t.Errorf("after touching %s: %v", tt.changed, got)
			}
			writeFiles(t, src, map[string][]byte{tt.changed: tt.change})
			got := trackedRun(t, file, root, true)
			if got["ingest"] != "would run: source changed: "+tt.changed || got["count"] != "would run: upstream stage ingest runs" {
				t.Errorf("status after changing %s: %v", tt.changed, got)
			}
			if got := trackedRun(t, file, root, false); !strings.HasPrefix(got["ingest"], "ran:") || !strings.HasPrefix(got["count"], "ran:") {
				t.Errorf("run after changing %s: %v", tt.changed, got)
			}
		})
	}
}
