package model

import (
	"strings"
	"testing"
)

// Zero epochs or zero patience are valid; negative ones are not.
func TestValidateEpochsAndPatience(t *testing.T) {
	for _, tt := range []struct {
		epochs, patience int
		ok               bool
	}{{0, 0, true}, {1, 0, true}, {-1, 0, false}, {0, -1, false}} {
		c := smallConfig(3, 2)
		c.Epochs, c.Patience = tt.epochs, tt.patience
		if err := c.Validate(); (err == nil) != tt.ok {
			t.Errorf("epochs %d patience %d: %v, want ok %v", tt.epochs, tt.patience, err, tt.ok)
		}
	}
}

// Mined batches of three classes need three classes with images: a label
// that no image has does not count.
func TestMinedCountsOnlyClassesWithImages(t *testing.T) {
	im := classImages(1, 40, 3, 2)
	for i := range im.Labels {
		im.Labels[i] *= 2 // classes 0 and 2; none of 1
	}
	m := Mined(im, Batches{Mining: BatchAll, Classes: 3, PerClass: 2}).(*mined)
	if err := m.check(smallConfig(3, 2)); err == nil || !strings.Contains(err.Error(), "the training images have 2") {
		t.Errorf("check: %v, want batches of 3 classes refused", err)
	}
}

// A layer of no inputs or no outputs is refused, even where its weights'
// length fits (0 × n is 0), and so is one whose weights or bias alone
// have the wrong length.
func TestWeightsCheckEmptyLayer(t *testing.T) {
	for _, l := range []Layer{{In: 0, Out: 2, B: make([]float32, 2)}, {In: 2, Out: 0},
		{In: 2, Out: 2, W: make([]float32, 3), B: make([]float32, 2)}, {In: 2, Out: 2, W: make([]float32, 4), B: make([]float32, 3)}} {
		w := &Weights{Layers: []Layer{l}}
		if err := w.Check(); err == nil {
			t.Errorf("a layer of %d inputs, %d outputs, %d weights and %d biases: no error", l.In, l.Out, len(l.W), len(l.B))
		}
	}
}
