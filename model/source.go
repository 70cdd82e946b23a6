package model

import (
	"fmt"
	"unsafe"

	"github.com/zeebo/xxh3"
)

// A TripletSource holds triplets of rows (anchor, positive, negative) of Dim
// floats each, and copies any of them into a batch on demand. Fixed training
// and the validation loss read their triplets through it, so that the
// triplets need not be held as floats: Triplets holds them so, ImageTriplets
// gathers them from uint8 images and row indices.
type TripletSource interface {
	// Shape is the number of triplets and the floats of one row.
	Shape() (n, dim int)
	// Gather writes triplets idx, three rows each, into dst[:3·Dim·len(idx)].
	Gather(dst []float32, idx []int)
	// Hash identifies the triplets' values, for checkpoints.
	Hash() uint64
	// Check reports a source whose parts do not fit together.
	Check() error
}

// Shape is the number of triplets and the floats of one row.
func (t Triplets) Shape() (n, dim int) { return t.N, t.Dim }

// Gather copies triplets idx into dst.
func (t Triplets) Gather(dst []float32, idx []int) {
	stride := 3 * t.Dim
	for s, i := range idx {
		copy(dst[s*stride:(s+1)*stride], t.Data[i*stride:(i+1)*stride])
	}
}

// Hash is the xxh3 hash of the triplets' floats.
func (t Triplets) Hash() uint64 { return hashFloats(t.Data) }

// Unit holds float32(float64(v) / 255) for every byte v: a pixel scaled to
// [0, 1] in float64, as the notebook's flatten step scales it, then rounded
// to float32 as training reads it.
var Unit = func() (t [256]float32) {
	for v := range t {
		t[v] = float32(float64(v) / 255)
	}
	return t
}()

// ImageTriplets are triplets of uint8 images, named by row: triplet i is
// images Rows[3i], Rows[3i+1] and Rows[3i+2] of Pixels (each Dim bytes),
// scaled by Unit. Its batches equal those of the Triplets that the notebook's
// float64 arrays hold, read as float32, bit for bit.
type ImageTriplets struct {
	Pixels []uint8
	D      int
	Rows   []int32
}

// Shape is the number of triplets and the pixels of one image.
func (t ImageTriplets) Shape() (n, dim int) { return len(t.Rows) / 3, t.D }

// Gather scales the images of triplets idx into dst.
func (t ImageTriplets) Gather(dst []float32, idx []int) {
	d := t.D
	for s, i := range idx {
		for k, r := range t.Rows[3*i : 3*i+3] {
			out := dst[(3*s+k)*d : (3*s+k+1)*d]
			for j, v := range t.Pixels[int(r)*d : int(r+1)*d] {
				out[j] = Unit[v]
			}
		}
	}
}

// Hash is the xxh3 hash of the images and the rows.
func (t ImageTriplets) Hash() uint64 {
	rows := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(t.Rows))), 4*len(t.Rows))
	return xxh3.HashSeed(rows, xxh3.HashSeed(t.Pixels, uint64(t.D)))
}

// Check reports rows outside the images, or images that are not whole.
func (t ImageTriplets) Check() error {
	if t.D <= 0 || len(t.Pixels)%t.D != 0 || len(t.Rows)%3 != 0 {
		return fmt.Errorf("model: image triplets of %d bytes, Dim %d, %d rows", len(t.Pixels), t.D, len(t.Rows))
	}
	n := int32(len(t.Pixels) / t.D)
	for i, r := range t.Rows {
		if r < 0 || r >= n {
			return fmt.Errorf("model: triplet %d names image %d of %d", i/3, r, n)
		}
	}
	return nil
}

// Len is the number of triplets.
func (t ImageTriplets) Len() int { return len(t.Rows) / 3 }
