// Package tripletset reads what train and evaluate take their triplets
// from: the images (ingest's images.npy, uint8), the triplet index
// (triplets.arrow: three rows of the images per triplet) and the split's
// row files (rows of the index). Nothing is copied but the rows: batches
// are gathered from the uint8 images as they are needed (model.ImageTriplets).
package tripletset

import (
	"fmt"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/model"
)

// Images are the images of images.npy, each Pixels bytes.
type Images struct {
	Data   []uint8
	Shape  []int // (n, rows, cols)
	Pixels int
}

// N is the number of images.
func (im Images) N() int { return len(im.Data) / max(im.Pixels, 1) }

// ReadImages reads images.npy.
func ReadImages(path string) (Images, error) {
	data, shape, err := artifacts.ReadNPY[uint8](path)
	if err != nil {
		return Images{}, err
	}
	if len(shape) < 2 || shape[0] == 0 {
		return Images{}, fmt.Errorf("%s: shape %v, want (n, rows, cols) with n > 0", path, shape)
	}
	return Images{Data: data, Shape: shape, Pixels: len(data) / shape[0]}, nil
}

// Index is triplets.arrow's columns: the images of each triplet, and its
// class.
type Index struct {
	Anchor, Positive, Negative, Class []int64
}

// Len is the number of triplets.
func (ix Index) Len() int { return len(ix.Anchor) }

// ReadIndex reads triplets.arrow and checks that its rows name images of
// n images.
func ReadIndex(path string, n int) (Index, error) {
	table, err := artifacts.ReadArrow(path)
	if err != nil {
		return Index{}, err
	}
	var ix Index
	for _, c := range []struct {
		name string
		dst  *[]int64
	}{{"anchor", &ix.Anchor}, {"positive", &ix.Positive}, {"negative", &ix.Negative}, {"class", &ix.Class}} {
		if *c.dst, err = table.Int64(c.name); err != nil {
			return Index{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	for _, col := range [][]int64{ix.Anchor, ix.Positive, ix.Negative} {
		for _, img := range col {
			if img < 0 || img >= int64(n) {
				return Index{}, fmt.Errorf("%s names image %d, but there are %d images", path, img, n)
			}
		}
	}
	return ix, nil
}

// ReadRows reads a split's row file: rows of an index of n triplets.
func ReadRows(path string, n int) ([]int64, error) {
	rows, shape, err := artifacts.ReadNPY[int64](path)
	if err != nil {
		return nil, err
	}
	if len(shape) != 1 {
		return nil, fmt.Errorf("%s: shape %v, want (rows,)", path, shape)
	}
	for _, r := range rows {
		if r < 0 || r >= int64(n) {
			return nil, fmt.Errorf("%s names triplet %d, but the index has %d", path, r, n)
		}
	}
	return rows, nil
}

// Select returns the triplets at rows of the index, as images of im.
func (ix Index) Select(im Images, rows []int64) model.ImageTriplets {
	t := model.ImageTriplets{Pixels: im.Data, D: im.Pixels, Rows: make([]int32, 0, 3*len(rows))}
	for _, r := range rows {
		t.Rows = append(t.Rows, int32(ix.Anchor[r]), int32(ix.Positive[r]), int32(ix.Negative[r]))
	}
	return t
}

// Read reads the images, the index and each of rowFiles, and returns the
// triplets each row file selects.
func Read(images, index string, rowFiles ...string) (Images, Index, []model.ImageTriplets, error) {
	im, err := ReadImages(images)
	if err != nil {
		return Images{}, Index{}, nil, err
	}
	ix, err := ReadIndex(index, im.N())
	if err != nil {
		return Images{}, Index{}, nil, err
	}
	var sets []model.ImageTriplets
	for _, f := range rowFiles {
		rows, err := ReadRows(f, ix.Len())
		if err != nil {
			return Images{}, Index{}, nil, err
		}
		sets = append(sets, ix.Select(im, rows))
	}
	return im, ix, sets, nil
}
