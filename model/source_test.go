package model

import (
	"context"
	"math/rand/v2"
	"testing"
)

// imageSet makes n random uint8 images of dim pixels and nt triplets of
// their rows, and the same triplets as the notebook's float64 array holds
// them, read as float32: float32(float64(v) / 255).
func imageSet(seed uint64, images, nt, dim int) (ImageTriplets, Triplets) {
	r := rand.New(rand.NewPCG(seed, 1))
	it := ImageTriplets{Pixels: make([]uint8, images*dim), D: dim, Rows: make([]int32, 3*nt)}
	for i := range it.Pixels {
		it.Pixels[i] = uint8(r.UintN(256))
	}
	for i := range it.Rows {
		it.Rows[i] = int32(r.IntN(images))
	}
	dense := Triplets{N: nt, Dim: dim, Data: make([]float32, 0, 3*nt*dim)}
	for _, row := range it.Rows {
		for _, v := range it.Pixels[int(row)*dim : int(row+1)*dim] {
			dense.Data = append(dense.Data, float32(float64(v)/255))
		}
	}
	return it, dense
}

// TestImageTripletsGatherAsFloat64Arrays: every batch gathered from the
// uint8 images equals the one gathered from the float64 arrays' values.
func TestImageTripletsGatherAsFloat64Arrays(t *testing.T) {
	it, dense := imageSet(1, 40, 25, 12)
	for _, idx := range [][]int{{0}, {24, 3, 3, 7}, {5, 4, 3, 2, 1, 0}} {
		a, b := make([]float32, 3*12*len(idx)), make([]float32, 3*12*len(idx))
		it.Gather(a, idx)
		dense.Gather(b, idx)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("batch %v value %d: %g from the images, %g from the arrays", idx, i, a[i], b[i])
			}
		}
	}
	for v := range 256 {
		if Unit[v] != float32(float64(v)/255) {
			t.Fatalf("Unit[%d] = %g", v, Unit[v])
		}
	}
}

// TestTrainFromImagesIsBitIdentical: training and validating on image
// triplets gives the weights and history that training on the dense
// float32 copies gives, bit for bit (the regression test of training from
// uint8 images and rows instead of the notebook's float64 arrays).
func TestTrainFromImagesIsBitIdentical(t *testing.T) {
	cfg := smallConfig(12, 10, 6)
	cfg.Epochs, cfg.Seed = 3, 9
	train, trainDense := imageSet(2, 60, 70, cfg.Input)
	val, valDense := imageSet(3, 60, 12, cfg.Input)
	got, err := Fit(context.Background(), cfg, Fixed(train), val, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := Train(context.Background(), cfg, trainDense, valDense, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Best.Equal(want.Best) {
		t.Fatal("weights trained from the images differ from those trained from the dense triplets")
	}
	for i := range want.History {
		if g, w := got.History[i], want.History[i]; g.Loss != w.Loss || g.ValLoss != w.ValLoss {
			t.Fatalf("epoch %d: loss %v/%v, want %v/%v", i+1, g.Loss, g.ValLoss, w.Loss, w.ValLoss)
		}
	}
}

func TestImageTripletsCheck(t *testing.T) {
	good, _ := imageSet(4, 5, 3, 4)
	for _, c := range []struct {
		name string
		it   ImageTriplets
		ok   bool
	}{
		{"good", good, true},
		{"row past the images", ImageTriplets{Pixels: good.Pixels, D: 4, Rows: []int32{0, 1, 5}}, false},
		{"negative row", ImageTriplets{Pixels: good.Pixels, D: 4, Rows: []int32{0, -1, 2}}, false},
		{"rows not in threes", ImageTriplets{Pixels: good.Pixels, D: 4, Rows: []int32{0, 1}}, false},
		{"partial image", ImageTriplets{Pixels: good.Pixels[:19], D: 4, Rows: []int32{0, 1, 2}}, false},
		{"no dim", ImageTriplets{Pixels: good.Pixels, Rows: []int32{0, 1, 2}}, false},
	} {
		if err := c.it.Check(); (err == nil) != c.ok {
			t.Errorf("%s: Check() = %v", c.name, err)
		}
	}
}
