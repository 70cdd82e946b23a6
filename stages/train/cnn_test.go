package train

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/model"
	"github.com/siamese-pipeline/siamese/scoring"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

// arch cnn trains conv blocks of train.conv channels on the images, in the
// mined and the fixed modes, and saves them in model/ beside the dense
// layers, where scoring reads the same network back.
func TestTrainStageCNN(t *testing.T) {
	d := stagetest.Write(t, 90, 10)
	for _, mining := range []string{"batch-all", Fixed} {
		t.Run(mining, func(t *testing.T) {
			run := func() (string, []artifacts.Conv) {
				env, out := stagetest.Env(t, New(), d.Inputs(allInputs...), map[string]any{
					"arch": "cnn", "conv": []int{2, 3}, "hidden": []int{8, 4}, "epochs": 2, "lr": 0.01, "batch": 8,
					"mining": mining, "classes_per_batch": 3, "images_per_class": 4, "train_images": 72, "margin": 0.2})
				if err := New().Run(context.Background(), env); err != nil {
					t.Fatal(err)
				}
				conv, _, m, err := artifacts.ReadNet(filepath.Join(out, "model"))
				if err != nil {
					t.Fatal(err)
				}
				if m.Extra["arch"] != "cnn" || len(m.Image) != 2 || m.Image[0]*m.Image[1] != m.Input {
					t.Fatalf("model.json: image %v, input %d, training %v", m.Image, m.Input, m.Extra)
				}
				return out, conv
			}
			out, conv := run()
			if len(conv) != 2 || conv[0].Out != 2 || conv[1].Out != 3 || conv[0].Width != stagetest.Side {
				t.Fatalf("conv blocks %+v", conv)
			}
			w, err := scoring.LoadWeights(filepath.Join(out, "model"))
			if err != nil {
				t.Fatal(err)
			}
			if len(w.Conv) != 2 || w.InputDim() != stagetest.Side*stagetest.Side || !slices.Equal(w.Conv[1].W, conv[1].W) {
				t.Fatalf("scoring's network: %d conv blocks, input %d", len(w.Conv), w.InputDim())
			}
			if _, again := run(); !slices.Equal(again[0].W, conv[0].W) {
				t.Error("a second training with the same seed differs")
			}
		})
	}
}

// The default arch's model.json names no conv blocks.
func TestTrainStageDefaultArchIsMLP(t *testing.T) {
	d := stagetest.Write(t, 60, 20)
	env, out := stagetest.Env(t, New(), d.Inputs(allInputs...),
		map[string]any{"hidden": []int{8, 4}, "epochs": 1, "batch": 8})
	if err := New().Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	conv, layers, m, err := artifacts.ReadNet(filepath.Join(out, "model"))
	if err != nil || len(conv) != 0 || m.Image != nil || m.Extra["arch"] != nil || len(layers) != 2 {
		t.Fatalf("conv %d, image %v, training %v: %v", len(conv), m.Image, m.Extra, err)
	}
	if env.Params.String("arch") != model.MLP {
		t.Fatalf("arch defaults to %q", env.Params.String("arch"))
	}
}
