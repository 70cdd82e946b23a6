package ingest

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/siamese-pipeline/siamese/artifacts"
)

// npzReader reads Keras's single-archive form of a dataset (mnist.npz),
// with the members x_train, y_train, x_test and y_test, train then test.
type npzReader struct {
	ds   *dataset
	path string
}

func (r npzReader) paths() []string { return []string{r.path} }

func (r npzReader) read(ctx context.Context) (*dataParts, error) {
	z, err := zip.OpenReader(r.path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.path, err)
	}
	defer z.Close()
	d := &dataParts{classes: r.ds.classes}
	for _, m := range []struct {
		x, y string
		want int
	}{{"x_train", "y_train", r.ds.trainN}, {"x_test", "y_test", r.ds.testN}} {
		p, err := loadNPZ(z, r.path, m.x, m.y, m.want, r.ds)
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d.parts = append(d.parts, p)
	}
	return d, nil
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
