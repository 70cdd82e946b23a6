package stages

import (
	"testing"

	"github.com/siamese-pipeline/siamese/pipeline"
)

// examples/quality.yaml trains the CNN with validation images, and
// pipeline.yaml the MLP without.
func TestQualityRecipeIsCNNWithValidation(t *testing.T) {
	for file, want := range map[string]struct {
		arch string
		val  bool
	}{"../examples/quality.yaml": {"cnn", true}, "../pipeline.yaml": {"mlp", false}} {
		p, err := pipeline.Load(file, Registry(), "")
		if err != nil {
			t.Fatal(err)
		}
		tp := p.Stage("train").Params
		if tp.String("arch") != want.arch || (tp.Int("val_images") > 0) != want.val {
			t.Errorf("%s: arch %q, val_images %d", file, tp.String("arch"), tp.Int("val_images"))
		}
	}
}
