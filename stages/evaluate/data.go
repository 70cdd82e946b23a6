package evaluate

import (
	"fmt"
	"os"
	"strings"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/runner"
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
}

func loadData(env *runner.Env) (*data, error) {
	var d data
	var shape []int
	var err error
	if d.images, shape, err = artifacts.ReadNPY[uint8](env.In("images.npy")); err != nil {
		return nil, err
	}
	if d.labels, _, err = artifacts.ReadNPY[uint8](env.In("labels.npy")); err != nil {
		return nil, err
	}
	if len(shape) < 2 || shape[0] != len(d.labels) || shape[0] == 0 {
		return nil, fmt.Errorf("images.npy shape %v does not fit %d labels", shape, len(d.labels))
	}
	d.pixels = len(d.images) / len(d.labels)
	names, err := os.ReadFile(env.In("classes.txt"))
	if err != nil {
		return nil, err
	}
	d.classes = strings.Split(strings.TrimRight(string(names), "\n"), "\n")
	if err := artifacts.CheckLabels(env.In("labels.npy"), d.labels, len(d.classes)); err != nil {
		return nil, err
	}
	table, err := artifacts.ReadArrow(env.In("triplets.arrow"))
	if err != nil {
		return nil, err
	}
	for _, c := range []struct {
		name string
		dst  *[]int64
	}{{"anchor", &d.anchor}, {"positive", &d.positive}, {"negative", &d.negative}, {"class", &d.class}} {
		if *c.dst, err = table.Int64(c.name); err != nil {
			return nil, err
		}
	}
	for _, col := range [][]int64{d.anchor, d.positive, d.negative} {
		for _, img := range col {
			if img < 0 || img >= int64(len(d.labels)) {
				return nil, fmt.Errorf("triplets.arrow names image %d, which images.npy lacks", img)
			}
		}
	}
	if d.trainRows, _, err = artifacts.ReadNPY[int64](env.In("train_rows.npy")); err != nil {
		return nil, err
	}
	if d.testRows, _, err = artifacts.ReadNPY[int64](env.In("test_rows.npy")); err != nil {
		return nil, err
	}
	return &d, nil
}

// className names class c: from classes.txt, or "class c".
func (d *data) className(c int) string {
	if c >= 0 && c < len(d.classes) && d.classes[c] != "" {
		return d.classes[c]
	}
	return fmt.Sprintf("class %d", c)
}

// classNames are the legend of a plot coloured by class; when the classes
// are not known, every point is "class" 0.
func (d *data) classNames(known bool) []string {
	if !known {
		return []string{"test anchors (classes unknown)"}
	}
	return d.classes
}

// image returns image i's pixels scaled to [0, 1], as flatten scales them.
func (d *data) image(i int64, dst []float32) {
	for j, v := range d.images[int(i)*d.pixels : int(i+1)*d.pixels] {
		dst[j] = float32(float64(v) / 255)
	}
}

// describes reports whether triplet row r of triplets.arrow holds the
// three images x holds (3 × pixels, as X_test holds a triplet).
func (d *data) describes(r int64, x []float32) bool {
	if r < 0 || r >= int64(len(d.anchor)) {
		return false
	}
	img := make([]float32, d.pixels)
	for k, col := range [][]int64{d.anchor, d.positive, d.negative} {
		d.image(col[r], img)
		for j, v := range img {
			if v != x[k*d.pixels+j] {
				return false
			}
		}
	}
	return true
}
