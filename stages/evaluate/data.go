package evaluate

import (
	"fmt"
	"os"
	"strings"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/model"
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/stages/internal/tripletset"
)

// data is what evaluate reads besides the network: the images and the
// triplets drawn from them.
type data struct {
	images  []uint8 // n × pixels
	labels  []uint8
	classes []string // names, in label order
	pixels  int
	// Triplet rows of triplets.arrow: the images of each triplet, and its class.
	anchor, positive, negative, class []int64
	trainRows, testRows               []int64
	trained                           *trained // how the model was trained, from model.json
}

func loadData(env *runner.Env) (*data, error) {
	im, ix, err := readIndex(env)
	if err != nil {
		return nil, err
	}
	d := data{images: im.Data, pixels: im.Pixels,
		anchor: ix.Anchor, positive: ix.Positive, negative: ix.Negative, class: ix.Class}
	if d.labels, _, err = artifacts.ReadNPY[uint8](env.In("labels.npy")); err != nil {
		return nil, err
	}
	if im.N() != len(d.labels) {
		return nil, fmt.Errorf("images.npy shape %v does not fit %d labels", im.Shape, len(d.labels))
	}
	names, err := os.ReadFile(env.In("classes.txt"))
	if err != nil {
		return nil, err
	}
	d.classes = strings.Split(strings.TrimRight(string(names), "\n"), "\n")
	if err := artifacts.CheckLabels(env.In("labels.npy"), d.labels, len(d.classes)); err != nil {
		return nil, err
	}
	if d.trainRows, err = tripletset.ReadRows(env.In("train_rows.npy"), ix.Len()); err != nil {
		return nil, err
	}
	if d.testRows, err = tripletset.ReadRows(env.In("test_rows.npy"), ix.Len()); err != nil {
		return nil, err
	}
	return &d, nil
}

// readIndex reads the images and the triplet index.
func readIndex(env *runner.Env) (tripletset.Images, tripletset.Index, error) {
	im, err := tripletset.ReadImages(env.In("images.npy"))
	if err != nil {
		return tripletset.Images{}, tripletset.Index{}, err
	}
	ix, err := tripletset.ReadIndex(env.In("triplets.arrow"), im.N())
	return im, ix, err
}

// className names class c: from classes.txt, or "class c".
func (d *data) className(c int) string {
	if c >= 0 && c < len(d.classes) && d.classes[c] != "" {
		return d.classes[c]
	}
	return fmt.Sprintf("class %d", c)
}

// image returns image i's pixels scaled to [0, 1], as flatten scales them.
func (d *data) image(i int64, dst []float32) {
	for j, v := range d.images[int(i)*d.pixels : int(i+1)*d.pixels] {
		dst[j] = model.Unit[v]
	}
}
