package ingest

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/siamese-pipeline/siamese/artifacts"
)

// idxReader reads the four IDX files of a dataset (train images, train
// labels, test images, test labels; each gzipped or plain), train then
// test.
type idxReader struct {
	ds    *dataset
	files []string
}

func (r idxReader) paths() []string { return r.files }

func (r idxReader) read(ctx context.Context) (*dataParts, error) {
	d := &dataParts{parts: make([]part, 2), classes: r.ds.classes}
	// The two halves decompress in parallel.
	g, ctx := errgroup.WithContext(ctx)
	for i, want := range []int{r.ds.trainN, r.ds.testN} {
		g.Go(func() (err error) {
			d.parts[i], err = loadIDX(r.files[2*i], r.files[2*i+1], want, r.ds)
			if err == nil {
				err = ctx.Err()
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return d, nil
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
