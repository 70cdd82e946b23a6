package evaluate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/siamese-pipeline/siamese/artifacts"
)

// trained is what model/model.json says of how the model was trained: a
// mined model names its training mode and the file of the images.npy rows
// it was trained on; a model trained on the split's triplets names neither.
type trained struct {
	Mining      string `json:"mining"`
	TrainImages string `json:"train_images"`
	HeldOut     string `json:"held_out"`
	// ValImages names the file of the validation images' rows, held out
	// of the training images (train.val_images); Validation says what they
	// are for. Both are empty without validation images.
	ValImages  string `json:"val_images"`
	Validation string `json:"validation"`
	rows       []int64
	valRows    []int64
}

// readTrained reads model.json's "training" in dir, and the training
// images' rows when it names them; n is the number of images.
func readTrained(dir string, n int) (*trained, error) {
	data, err := os.ReadFile(filepath.Join(dir, "model.json"))
	if err != nil {
		return nil, err
	}
	var m struct {
		Training trained `json:"training"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s/model.json: %w", dir, err)
	}
	t := &m.Training
	if t.TrainImages == "" {
		return &trained{Mining: "fixed", HeldOut: "the images no training triplet used"}, nil
	}
	if filepath.Base(t.TrainImages) != t.TrainImages {
		return nil, fmt.Errorf("%s/model.json names training images outside the model: %q", dir, t.TrainImages)
	}
	if t.rows, err = readRows(dir, t.TrainImages, n); err != nil {
		return nil, err
	}
	if t.ValImages != "" {
		if filepath.Base(t.ValImages) != t.ValImages {
			return nil, fmt.Errorf("%s/model.json names validation images outside the model: %q", dir, t.ValImages)
		}
		if t.valRows, err = readRows(dir, t.ValImages, n); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// readRows reads the rows of images.npy (of n images) that file in dir lists.
func readRows(dir, file string, n int) ([]int64, error) {
	rows, _, err := artifacts.ReadNPY[int64](filepath.Join(dir, file))
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r < 0 || r >= int64(n) {
			return nil, fmt.Errorf("%s names image %d, which images.npy lacks", file, r)
		}
	}
	return rows, nil
}

// trainingImages marks the images that training used: the model's training
// images when model.json names them, else those of the training triplets.
func (d *data) trainingImages() ([]bool, error) {
	used := make([]bool, len(d.labels))
	if d.trained != nil && d.trained.rows != nil {
		for _, r := range d.trained.rows {
			used[r] = true
		}
		return used, nil
	}
	for _, t := range d.trainRows {
		if t < 0 || t >= int64(len(d.anchor)) {
			return nil, fmt.Errorf("training triplet %d is not in triplets.arrow", t)
		}
		used[d.anchor[t]], used[d.positive[t]], used[d.negative[t]] = true, true, true
	}
	return used, nil
}
