package stages

import (
	"path/filepath"
	"testing"

	"github.com/siamese-pipeline/siamese/pipeline"
)

// examples/quality.yaml parses against the registry, trains a mined mode
// into its own artifacts root, and gates on the recipe's goals.
func TestQualityRecipe(t *testing.T) {
	p, err := pipeline.Load("../examples/quality.yaml", Registry(), "")
	if err != nil {
		t.Fatal(err)
	}
	def, err := pipeline.Load("../pipeline.yaml", Registry(), "")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Clean(p.Root) == filepath.Clean(def.Root) {
		t.Errorf("quality.yaml writes into the default root %s", def.Root)
	}
	if m := p.Stage("train").Params.String("mining"); m == "fixed" {
		t.Errorf("quality.yaml trains with mining %q", m)
	}
	if m := def.Stage("train").Params.String("mining"); m != "fixed" {
		t.Errorf("pipeline.yaml trains with mining %q", m)
	}
	gated := map[string]float64{}
	for _, g := range p.Gate {
		if g.Min != nil {
			gated[g.Metric] = *g.Min
		}
	}
	for metric, min := range map[string]float64{"knn_accuracy_k5": 0.92, "roc_auc": 0.985, "anomaly_auroc_mean_embedding": 0.992} {
		if gated[metric] != min {
			t.Errorf("quality.yaml gates %s at %v, want %v", metric, gated[metric], min)
		}
	}
}
