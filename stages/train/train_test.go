package train

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

func TestTrainStage(t *testing.T) {
	d := stagetest.Write(t, 60, 20)
	run := func() (string, *artifacts.Table) {
		env, out := stagetest.Env(t, New(), d.Inputs(allInputs...),
			map[string]any{"hidden": []int{8, 4}, "epochs": 3, "batch": 8, "lr": 0.01})
		if err := New().Run(context.Background(), env); err != nil {
			t.Fatal(err)
		}
		h, err := artifacts.ReadArrow(filepath.Join(out, "history.arrow"))
		if err != nil {
			t.Fatal(err)
		}
		return out, h
	}
	out, h := run()
	layers, m, err := artifacts.ReadMLP(filepath.Join(out, "model"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Input != stagetest.Side*stagetest.Side || m.Embedding != 4 || len(layers) != 2 ||
		layers[0].Activation != "relu" || layers[1].Activation != "linear" {
		t.Errorf("model.json: %+v", m)
	}
	if got := h.Names(); !slices.Equal(got, []string{"epoch", "loss", "val_loss", "seconds"}) || h.NumRows() < 1 || h.NumRows() > 3 {
		t.Errorf("history.arrow: %v, %d rows", got, h.NumRows())
	}
	loss, _ := h.Float64("loss")
	if loss[0] <= 0 {
		t.Errorf("loss %v", loss)
	}
	if st, err := os.Stat(filepath.Join(out, "loss.png")); err != nil || st.Size() == 0 {
		t.Errorf("loss.png: %v", err)
	}
	// The same seed gives the same weights.
	out2, _ := run()
	again, _, err := artifacts.ReadMLP(filepath.Join(out2, "model"))
	if err != nil || !slices.Equal(again[0].W, layers[0].W) {
		t.Errorf("a second training with the same seed differs (%v)", err)
	}
}

func TestTrainStageBadInput(t *testing.T) {
	d := stagetest.Write(t, 30, 5)
	in := d.Inputs(allInputs...)
	for name, swap := range map[string][2]string{
		"labels as the rows":      {"train_rows.npy", "labels.npy"},
		"rows as the images":      {"images.npy", "test_rows.npy"},
		"images as the index":     {"triplets.arrow", "images.npy"},
		"test rows as train rows": {"train_rows.npy", "images.npy"},
	} {
		bad := maps.Clone(in)
		bad[swap[0]] = in[swap[1]]
		env, _ := stagetest.Env(t, New(), bad, nil)
		if err := New().Run(context.Background(), env); err == nil {
			t.Errorf("%s: trained", name)
		}
	}
}
