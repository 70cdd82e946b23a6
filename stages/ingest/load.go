package ingest

import (
	"context"
	"fmt"

	"github.com/siamese-pipeline/siamese/artifacts"
)

// reader reads a dataset from files on disk. There is one implementation
// per kind of dataset source, each in its own file: the four IDX files
// (idx.go), Keras's npz archive (npz.go) and a folder of class folders of
// images (folder.go).
type reader interface {
	// paths are the files and directories the reader reads, which the
	// stage reports to the runner as tracked sources.
	paths() []string
	// read reads the dataset.
	read(ctx context.Context) (*dataParts, error)
}

// part is one part of a dataset: the train or the test half of
// Fashion-MNIST, or every image of a folder.
type part struct {
	images     []uint8
	pieces     [][]uint8 // if set, the images, one slice each, instead of images
	labels     []uint8
	n          int
	rows, cols int
}

// dataParts is a dataset as images.npy and labels.npy hold it: its parts
// one after the other (train then test), and its class names.
type dataParts struct {
	parts   []part
	classes []string // in label order
	// written, if set, is called with the path of images.npy once the
	// outputs are written.
	written func(images string)
}

func (d *dataParts) n() int {
	n := 0
	for _, p := range d.parts {
		n += p.n
	}
	return n
}

// check checks a part read from a published dataset against its counts
// and image size.
func (p part) check(imagesName, labelsName string, want int, ds *dataset) error {
	switch {
	case p.rows != ds.rows || p.cols != ds.cols:
		return fmt.Errorf("%s: images are %d×%d, want %d×%d", imagesName, p.rows, p.cols, ds.rows, ds.cols)
	case len(p.labels) != p.n:
		return fmt.Errorf("%s has %d images but %s has %d labels", imagesName, p.n, labelsName, len(p.labels))
	case p.n != want:
		return fmt.Errorf("%s has %d images, want %d for %s", imagesName, p.n, want, ds.name)
	}
	return nil
}

// write writes the parts, in order, as one images array and one labels
// array.
func (d *dataParts) write(imagesPath, labelsPath string) error {
	if len(d.parts) == 0 {
		return fmt.Errorf("no images")
	}
	first := d.parts[0]
	for _, p := range d.parts[1:] {
		if p.rows != first.rows || p.cols != first.cols {
			return fmt.Errorf("parts of %d×%d and %d×%d images", first.rows, first.cols, p.rows, p.cols)
		}
	}
	n := d.n()
	iw, err := artifacts.CreateNPY[uint8](imagesPath, n, first.rows, first.cols)
	if err != nil {
		return err
	}
	labels := make([]uint8, 0, n)
	for _, p := range d.parts {
		for _, im := range append([][]uint8{p.images}, p.pieces...) {
			if err := iw.Write(im); err != nil {
				iw.Close()
				return err
			}
		}
		labels = append(labels, p.labels...)
	}
	if err := iw.Close(); err != nil {
		return err
	}
	return artifacts.WriteNPY(labelsPath, labels, n)
}
