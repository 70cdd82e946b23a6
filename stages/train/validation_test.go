package train

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/model"
	"github.com/siamese-pipeline/siamese/scoring"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

// train.val_images holds the last training images out: model/ lists them
// apart from the training images, which exclude them, and model.json says
// what they are for; the fixed mode refuses them.
func TestTrainStageValImages(t *testing.T) {
	d := stagetest.Write(t, 90, 10)
	params := map[string]any{"hidden": []int{8, 4}, "epochs": 2, "lr": 0.01, "mining": "batch-all", "classes_per_batch": 3,
		"images_per_class": 4, "train_images": 72, "margin": 1.5, "restore": "last"}
	trainRows := func(extra map[string]any) (string, []int64) {
		p := withParams(params, extra)
		env, out := stagetest.Env(t, New(), d.Inputs(allInputs...), p)
		if err := New().Run(context.Background(), env); err != nil {
			t.Fatal(err)
		}
		rows, _, err := artifacts.ReadNPY[int64](filepath.Join(out, "model", TrainImagesFile))
		if err != nil {
			t.Fatal(err)
		}
		return out, rows
	}
	_, all := trainRows(nil)
	out, rows := trainRows(map[string]any{"val_images": 12})
	val, _, err := artifacts.ReadNPY[int64](filepath.Join(out, "model", ValImagesFile))
	if err != nil {
		t.Fatal(err)
	}
	var wantRows, wantVal []int64
	for k := range 12 {
		wantVal = append(wantVal, all[k*len(all)/12])
	}
	for _, r := range all {
		if !slices.Contains(wantVal, r) {
			wantRows = append(wantRows, r)
		}
	}
	if !slices.Equal(rows, wantRows) || !slices.Equal(val, wantVal) || len(wantVal) != 12 {
		t.Fatalf("trained on %v and validated on %v; the training images without validation were %v", rows, val, all)
	}
	var m struct {
		Training map[string]any `json:"training"`
	}
	data, _ := os.ReadFile(filepath.Join(out, "model", "model.json"))
	if err := json.Unmarshal(data, &m); err != nil || m.Training["val_images"] != ValImagesFile ||
		!strings.Contains(m.Training["validation"].(string), "never trained on") {
		t.Fatalf("model.json training %v (%v)", m.Training, err)
	}
	// The history's validation loss is the last weights' on the validation triplets.
	images, _, _ := artifacts.ReadNPY[uint8](d.Path("images.npy"))
	labels, _, _ := artifacts.ReadNPY[uint8](d.Path("labels.npy"))
	var on trainedOn
	if err := on.validateOn(images, len(images)/len(labels), labels, val, 42); err != nil {
		t.Fatal(err)
	}
	w, err := scoring.LoadWeights(filepath.Join(out, "model"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := artifacts.ReadArrow(filepath.Join(out, "history.arrow"))
	if err != nil {
		t.Fatal(err)
	}
	vl, _ := h.Float64("val_loss")
	if want := model.Loss(w, *on.val, 1.5); math.Abs(vl[len(vl)-1]-want) > 1e-6 {
		t.Fatalf("last validation loss %g, the weights' on the validation triplets %g", vl[len(vl)-1], want)
	}
	env, _ := stagetest.Env(t, New(), d.Inputs(allInputs...), withParams(params, map[string]any{"mining": Fixed, "val_images": 12}))
	if err := New().Run(context.Background(), env); err == nil || !strings.Contains(err.Error(), "val_images") {
		t.Fatalf("fixed mode with val_images: %v", err)
	}
}

// The validation triplets: each validation image anchors one, with a
// positive of its class and a negative of another, all validation images.
func TestValidationTriplets(t *testing.T) {
	labels := []uint8{0, 1, 2, 0, 1, 2, 0, 1, 2, 3}
	images := make([]uint8, len(labels)*4)
	val := []int64{2, 3, 4, 5, 6, 7, 8, 9} // class 3 has one image: it anchors nothing
	var on trainedOn
	if err := on.validateOn(images, 4, labels, val, 1); err != nil {
		t.Fatal(err)
	}
	if got := len(on.val.Rows) / 3; got != 7 {
		t.Fatalf("%d triplets, want 7", got)
	}
	for i := 0; i < len(on.val.Rows); i += 3 {
		a, p, n := on.val.Rows[i], on.val.Rows[i+1], on.val.Rows[i+2]
		for _, r := range []int32{a, p, n} {
			if !slices.Contains(val, int64(r)) {
				t.Fatalf("triplet %v uses image %d, not a validation image", on.val.Rows[i:i+3], r)
			}
		}
		if a == p || labels[a] != labels[p] || labels[a] == labels[n] {
			t.Fatalf("triplet %v: labels %d %d %d", on.val.Rows[i:i+3], labels[a], labels[p], labels[n])
		}
	}
	if err := on.validateOn(images, 4, labels, []int64{0, 3}, 1); err == nil {
		t.Fatal("validation images of one class gave triplets")
	}
	if _, _, err := holdValidation([]int64{1, 2}, 2); err == nil {
		t.Fatal("holding out every training image succeeded")
	}
}

func withParams(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
