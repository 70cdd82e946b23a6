package train

import (
	"fmt"
	"math/rand/v2"

	"github.com/siamese-pipeline/siamese/model"
)

// ValImagesFile, in model/, lists the rows of images.npy held out of a
// mined model's training images as its validation images (int64);
// model.json's "training" names it. Evaluate scores them apart from the
// test images.
const ValImagesFile = "val_images.npy"

// validationDoc says in words what the validation images are and do.
func validationDoc(n int) string {
	return fmt.Sprintf("%d of the training images, evenly spread over them, never trained on: the validation loss of every epoch "+
		"(early stopping, restore best) and evaluate's validation metrics, on which recipes are chosen", n)
}

// valStream separates the validation triplets' draws from the seed's others.
const valStream = 0x6a09e667f3bcc909

// holdValidation splits n evenly spread training rows off as validation
// images (rows i·len/n): every part of images.npy gives some, so a folder
// dataset, whose images come class by class, gives every class.
func holdValidation(rows []int64, n int) (train, val []int64, err error) {
	if n == 0 {
		return rows, nil, nil
	}
	if n >= len(rows) {
		return nil, nil, fmt.Errorf("val_images is %d, but there are %d training images", n, len(rows))
	}
	next := 0
	for i, r := range rows {
		if next < n && i == next*len(rows)/n {
			val = append(val, r)
			next++
		} else {
			train = append(train, r)
		}
	}
	return train, val, nil
}

// validateOn draws the validation triplets: each validation image is the
// anchor of one, with a positive of its class and a negative of another
// class, both among the validation images, from a PCG seeded by seed. An
// image whose class has no other validation image anchors none.
func (t *trainedOn) validateOn(images []uint8, pixels int, labels []uint8, val []int64, seed uint64) error {
	byClass := map[uint8][]int32{}
	for _, r := range val {
		byClass[labels[r]] = append(byClass[labels[r]], int32(r))
	}
	if len(byClass) < 2 {
		return fmt.Errorf("the %d validation images hold %d class: no triplets", len(val), len(byClass))
	}
	r := rand.New(rand.NewPCG(seed, valStream))
	tr := &model.ImageTriplets{Pixels: images, D: pixels}
	for _, a := range val {
		same := byClass[labels[a]]
		if len(same) < 2 {
			continue
		}
		p := same[r.IntN(len(same))]
		for p == int32(a) {
			p = same[r.IntN(len(same))]
		}
		n := int32(val[r.IntN(len(val))])
		for labels[n] == labels[a] {
			n = int32(val[r.IntN(len(val))])
		}
		tr.Rows = append(tr.Rows, int32(a), p, n)
	}
	if len(tr.Rows) == 0 {
		return fmt.Errorf("no class has two of the %d validation images: no triplets", len(val))
	}
	t.ValRows, t.val = val, tr
	return nil
}
