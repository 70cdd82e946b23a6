package stages

import (
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/pipeline"
)

// The repository's pipeline file parses against the registry: every
// stage's declared ranges are well formed and its defaults lie in them.
func TestPipelineFileChecks(t *testing.T) {
	if _, err := pipeline.Load("../pipeline.yaml", Registry(), t.TempDir()); err != nil {
		t.Fatal(err)
	}
}

// Mistaken params are refused by the Spec before anything runs.
func TestSetRefusesOutOfRange(t *testing.T) {
	tests := []struct{ set, want string }{
		{"train.batch=0", "0 is out of range [1, 65536]"},
		{"train.lr=-1", "-1 is out of range (0, 1]"},
		{"train.epochs=0", "0 is out of range [1, 100000]"},
		{"train.hidden=[512, 0]", "0 is out of range [1, 65536]"},
		{"train.margin=.nan", "NaN is not a finite number"},
		{"split.test_size=1.5", "1.5 is out of range (0, 1)"},
		{"split.seed=-1", "-1 is out of range [0, 4294967295]"},
		{"triplets.per_class=-5", "-5 is out of range [1, )"},
		{"triplets.rng=fast", `"fast" is not one of numpy, per-class`},
		{"ingest.dataset=nosuch", `"nosuch" is not one of fashion, folder, mnist`},
		{"evaluate.queries=0", "0 is out of range [1, )"},
		{"triplets.per_class=0", "0 is out of range [1, )"},
		{"triplets.seed=4294967296", "4294967296 is out of range [0, 4294967295]"},
		{"ingest.image_size=0", "0 is out of range [1, 1024]"},
		{"ingest.filter=lanczos", `"lanczos" is not one of approx-bilinear, bilinear, catmull-rom, nearest`},
		{"ingest.on_bad_image=ignore", `"ignore" is not one of error, skip`},
		{"ingest.image_size=32", "image_size 32: fashion's images are 28×28"},
		{"ingest.dataset=folder", "dataset folder needs source"},
	}
	for _, tt := range tests {
		p, err := pipeline.Load("../pipeline.yaml", Registry(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		err = p.Set(tt.set)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "--set "+tt.set+": ") {
			t.Errorf("--set %s: got %v, want %q", tt.set, err, tt.want)
		}
	}
}
