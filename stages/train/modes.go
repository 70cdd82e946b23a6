package train

import (
	"fmt"
	"path/filepath"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/model"
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/stages/internal/tripletset"
)

// A training mode, as train.mining names it, opens the data the stage
// trains on (fixed.go, mined.go).
type mode interface {
	// open returns the model's Mode over the stage's inputs, and for a
	// mode that does not train on the split's triplets, which images of
	// images.npy it trains on (else nil).
	open(env *runner.Env, in *inputs) (model.Mode, *trainedOn, error)
}

// inputs are what every mode trains from: the images, the triplet index,
// and the split's training and test triplets (rows of the index, gathered
// from the images).
type inputs struct {
	images      tripletset.Images
	index       tripletset.Index
	train, test model.ImageTriplets
}

// readInputs reads images.npy, triplets.arrow and the split's row files.
func readInputs(env *runner.Env) (*inputs, error) {
	im, ix, sets, err := tripletset.Read(env.In("images.npy"), env.In("triplets.arrow"),
		env.In("train_rows.npy"), env.In("test_rows.npy"))
	if err != nil {
		return nil, err
	}
	return &inputs{images: im, index: ix, train: sets[0], test: sets[1]}, nil
}

// trainedOn is what model/ records of the images a model was trained on,
// for evaluate to score it on the others only.
type trainedOn struct {
	Rows    []int64 // rows of images.npy
	HeldOut string  // which images no training step used, in words
	// ValRows are the validation images (rows of images.npy, none of
	// Rows), val the triplets drawn from them that the validation loss
	// reads (validation.go); none without train.val_images.
	ValRows []int64
	val     *model.ImageTriplets
}

// Fixed is train.mining's default: the notebook's triplets.
const Fixed = "fixed"

// Minings lists train.mining's choices.
func Minings() []string {
	out := []string{Fixed}
	for _, m := range model.Minings {
		out = append(out, string(m))
	}
	return out
}

func modeFor(mining string) (mode, error) {
	if mining == Fixed {
		return fixed{}, nil
	}
	for _, m := range model.Minings {
		if string(m) == mining {
			return mined{mining: m}, nil
		}
	}
	return nil, fmt.Errorf("unknown mining %q", mining)
}

// TrainImagesFile, in model/, lists the rows of images.npy a mined model
// was trained on (int64); model.json's "training" names it, with the
// mining and the images held out. A model trained on fixed triplets has
// neither: its training images are those of the split's training triplets.
const TrainImagesFile = "train_images.npy"

// record writes the training images into dir and describes them in extra;
// nothing for the fixed triplets (t nil), whose model.json stays as it was.
func (t *trainedOn) record(dir, mining string, extra map[string]any) error {
	if t == nil {
		return nil
	}
	extra["mining"], extra["train_images"], extra["held_out"] = mining, TrainImagesFile, t.HeldOut
	if len(t.ValRows) > 0 {
		extra["val_images"], extra["validation"] = ValImagesFile, validationDoc(len(t.ValRows))
		if err := artifacts.WriteNPY(filepath.Join(dir, ValImagesFile), t.ValRows, len(t.ValRows)); err != nil {
			return err
		}
	}
	return artifacts.WriteNPY(filepath.Join(dir, TrainImagesFile), t.Rows, len(t.Rows))
}
