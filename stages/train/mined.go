package train

import (
	"fmt"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/model"
	"github.com/siamese-pipeline/siamese/runner"
)

// mined trains on batches of labelled images mined for triplets. It draws
// from the first train_images rows of images.npy (the dataset's training
// part), less every image of the test triplets, so that evaluate scores
// both the test triplets and its retrieval queries on images no training
// step saw.
type mined struct{ mining model.Mining }

func (m mined) open(env *runner.Env, in *inputs) (model.Mode, *trainedOn, error) {
	p := env.Params
	labels, _, err := artifacts.ReadNPY[uint8](env.In("labels.npy"))
	if err != nil {
		return nil, nil, err
	}
	images, shape := in.images.Data, in.images.Shape
	if shape[0] != len(labels) {
		return nil, nil, fmt.Errorf("images.npy shape %v does not fit %d labels", shape, len(labels))
	}
	n, pixels := len(labels), in.images.Pixels
	limit := p.Int("train_images")
	if limit > n {
		return nil, nil, fmt.Errorf("train_images is %d, but images.npy holds %d images", limit, n)
	}
	test := make([]bool, n) // the images of the test triplets
	for _, r := range in.test.Rows {
		test[r] = true
	}
	im := model.Images{Dim: pixels}
	var rows []int64
	for i := range limit {
		if test[i] {
			continue
		}
		rows = append(rows, int64(i))
		im.Labels = append(im.Labels, int32(labels[i]))
	}
	rows, valRows, err := holdValidation(rows, p.Int("val_images"))
	if err != nil {
		return nil, nil, err
	}
	if len(valRows) > 0 {
		im.Labels = im.Labels[:0]
		for _, r := range rows {
			im.Labels = append(im.Labels, int32(labels[r]))
		}
	}
	im.N = len(rows)
	im.Data = make([]float32, im.N*pixels)
	for k, r := range rows {
		dst := im.Data[k*pixels : (k+1)*pixels]
		for j, v := range images[int(r)*pixels : int(r+1)*pixels] {
			dst[j] = model.Unit[v] // as flatten scales, then reading as float32
		}
	}
	inTest := 0
	for i := range limit {
		if test[i] {
			inTest++
		}
	}
	held := fmt.Sprintf("images %d to %d of images.npy (%d), and the %d images of the test triplets among the first %d",
		limit, n-1, n-limit, inTest, limit)
	if limit == n {
		held = fmt.Sprintf("the %d images of the test triplets", inTest)
	}
	env.Log.Info("mined training images", "mining", m.mining, "images", im.N, "held_out", held)
	b := model.Batches{Mining: m.mining, Classes: p.Int("classes_per_batch"), PerClass: p.Int("images_per_class")}
	if p.Bool("mirror") {
		b.Mirror = shape[len(shape)-1] // the images' width
	}
	mode := model.Mined(im, b)
	on := &trainedOn{Rows: rows, HeldOut: held}
	if len(valRows) > 0 {
		if err := on.validateOn(images, pixels, labels, valRows, uint64(p.Int("seed"))); err != nil {
			return nil, nil, err
		}
		env.Log.Info("validation images", "images", len(valRows), "triplets", len(on.val.Rows)/3)
	}
	return mode, on, nil
}
