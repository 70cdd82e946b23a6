package ingest

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/siamese-pipeline/siamese/artifacts"
)

// part is the train or the test half of a dataset.
type part struct {
	images     []uint8
	labels     []uint8
	n          int
	rows, cols int
}

type dataParts struct{ train, test part }

// load reads the dataset from src and checks it against ds's counts and
// image size.
func (src *source) load(ds *dataset) (*dataParts, error) {
	var d dataParts
	var err error
	if src.idx != nil {
		// The two halves decompress in parallel.
		var g errgroup.Group
		g.Go(func() (err error) { d.train, err = loadIDX(src.idx[0], src.idx[1], ds.trainN, ds); return err })
		g.Go(func() (err error) { d.test, err = loadIDX(src.idx[2], src.idx[3], ds.testN, ds); return err })
		if err := g.Wait(); err != nil {
			return nil, err
		}
		return &d, nil
	}
	z, err := zip.OpenReader(src.npz)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", src.npz, err)
	}
	defer z.Close()
	if d.train, err = loadNPZ(z, src.npz, "x_train", "y_train", ds.trainN, ds); err != nil {
		return nil, err
	}
	if d.test, err = loadNPZ(z, src.npz, "x_test", "y_test", ds.testN, ds); err != nil {
		return nil, err
	}
	return &d, nil
}

func loadIDX(imagesPath, labelsPath string, want int, ds *dataset) (part, error) {
	images, n, rows, cols, err := artifacts.ReadIDXImages(imagesPath)
	if err != nil {
		return part{}, err
	}
	labels, err := artifacts.ReadIDXLabels(labelsPath)
	if err != nil {
		return part{}, err
	}
	p := part{images: images, labels: labels, n: n, rows: rows, cols: cols}
	return p, p.check(imagesPath, labelsPath, want, ds)
}

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

// loadNPZ reads the images and labels members of Keras's npz archive.
func loadNPZ(z *zip.ReadCloser, path, images, labels string, want int, ds *dataset) (part, error) {
	x, xs, err := npzMember(z, path, images)
	if err != nil {
		return part{}, err
	}
	y, ys, err := npzMember(z, path, labels)
	if err != nil {
		return part{}, err
	}
	xName, yName := path+":"+images, path+":"+labels
	if len(xs) != 3 {
		return part{}, fmt.Errorf("%s: shape %v, want (n, %d, %d)", xName, xs, ds.rows, ds.cols)
	}
	if len(ys) != 1 {
		return part{}, fmt.Errorf("%s: shape %v, want (n,)", yName, ys)
	}
	p := part{images: x, labels: y, n: xs[0], rows: xs[1], cols: xs[2]}
	return p, p.check(xName, yName, want, ds)
}

// npzMember extracts member name+".npy" of an npz to a temporary file and
// reads it as uint8.
func npzMember(z *zip.ReadCloser, path, name string) ([]uint8, []int, error) {
	i := slices.IndexFunc(z.File, func(f *zip.File) bool { return f.Name == name+".npy" })
	if i < 0 {
		return nil, nil, fmt.Errorf("read %s: no member %s.npy", path, name)
	}
	tmp, err := os.CreateTemp("", "ingest-*.npy")
	if err != nil {
		return nil, nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	r, err := z.File[i].Open()
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %s.npy: %w", path, name, err)
	}
	_, err = io.Copy(tmp, r)
	r.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %s.npy: %w", path, name, err)
	}
	data, shape, err := artifacts.ReadNPY[uint8](tmp.Name())
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %s.npy: %w", path, name, err)
	}
	return data, shape, nil
}

// write writes train then test as one images array and one labels array.
func (d *dataParts) write(imagesPath, labelsPath string) error {
	n := d.train.n + d.test.n
	iw, err := artifacts.CreateNPY[uint8](imagesPath, n, d.train.rows, d.train.cols)
	if err != nil {
		return err
	}
	for _, p := range []part{d.train, d.test} {
		if err := iw.Write(p.images); err != nil {
			iw.Close()
			return err
		}
	}
	if err := iw.Close(); err != nil {
		return err
	}
	return artifacts.WriteNPY(labelsPath, slices.Concat(d.train.labels, d.test.labels), n)
}
