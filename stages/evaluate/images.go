package evaluate

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/siamese-pipeline/siamese/blas"
	"github.com/siamese-pipeline/siamese/internal/par"
	"github.com/siamese-pipeline/siamese/metrics"
	"github.com/siamese-pipeline/siamese/model"
	"github.com/siamese-pipeline/siamese/plots"
	"github.com/siamese-pipeline/siamese/runner"
)

// queries are the embedded images no training triplet used, and those
// they did (the reference).
type queries struct {
	emb    []float32
	labels []int
	// The reference images' embeddings, and the mean reference image of
	// each class (nil for a class without reference images).
	refEmb    []float32
	refLabels []int
	meanImgs  [][]float32
	// The validation images' embeddings (none without validation images).
	valEmb    []float32
	valLabels []int
}

// validation returns q with the validation images as its queries.
func (q *queries) validation() *queries {
	v := *q
	v.emb, v.labels = q.valEmb, q.valLabels
	return &v
}

// embedQueries embeds the images the training triplets used (the
// reference) and up to params.queries of those they did not (the
// queries). It returns nil, nil when there are no queries.
func embedQueries(ctx context.Context, env *runner.Env, w *model.Weights, d *data) (*queries, error) {
	ref, query, err := splitImages(d, env.Params.Int("queries"))
	if err != nil {
		return nil, err
	}
	if len(ref) == 0 || len(query) == 0 {
		env.Log.Warn("no image is left that training did not use: retrieval and anomaly metrics are left out")
		return nil, nil
	}
	q := &queries{}
	if q.refEmb, q.refLabels, q.meanImgs, err = embedImages(ctx, w, d, ref); err != nil {
		return nil, err
	}
	if q.emb, q.labels, _, err = embedImages(ctx, w, d, query); err != nil {
		return nil, err
	}
	if val := d.validationImages(); len(val) > 0 {
		if q.valEmb, q.valLabels, _, err = embedImages(ctx, w, d, val); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// retrieval returns the kNN accuracies of the queries against the
// reference, and the queries' P@1 and MAP@R among themselves, in a
// Retrieval with the other fields zero.
func retrieval(ctx context.Context, q *queries, dim int) (Retrieval, error) {
	knn, err := metrics.KNNAccuracies(ctx, q.refEmb, q.refLabels, q.emb, q.labels, dim, 1, 5)
	if err != nil {
		return Retrieval{}, err
	}
	p1, mapR, err := metrics.SelfRetrieval(ctx, q.emb, q.labels, dim)
	if err != nil {
		return Retrieval{}, err
	}
	return Retrieval{KNN1: knn[0], KNN5: knn[1], PrecisionAt: p1, MAPAtR: mapR}, nil
}

// embedRows is how many images a goroutine converts and embeds at once
// (about 3 MiB of pixels, a few tens of milliseconds between checks of
// ctx). A variable so that tests can make blocks small.
var embedRows = 1024

// embedImages embeds the images rows of d and returns their embeddings and
// labels, and the mean image of each class (nil for a class without images;
// sums in float32 in row order). Up to GOMAXPROCS goroutines take blocks of
// embedRows images in turn, convert them and embed them with products on
// their own goroutine (blas.Serial): two such streams outrun one stream of
// products split over both cores. With fewer blocks than goroutines, or a
// BLAS that keeps its own threads, one goroutine does, with split products.
// The embeddings are model.Embed's either way.
func embedImages(ctx context.Context, w *model.Weights, d *data, rows []int) ([]float32, []int, [][]float32, error) {
	side, dim := w.InputDim(), w.OutputDim()
	if d.pixels != side {
		return nil, nil, nil, fmt.Errorf("images have %d pixels, the network takes %d", d.pixels, side)
	}
	emb, labels := make([]float32, len(rows)*dim), make([]int, len(rows))
	var sums [][]float32
	var counts []int
	for i, r := range rows {
		l := int(d.labels[r])
		labels[i] = l
		for len(sums) <= l {
			sums, counts = append(sums, nil), append(counts, 0)
		}
		if sums[l] == nil {
			sums[l] = make([]float32, side)
		}
		counts[l]++
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	workers := runtime.GOMAXPROCS(0)
	// The class sums, split by pixels: each pixel's sum runs in row order.
	par.Chunks(workers, workers-1, func(h int) {
		lo, hi := h*side/workers, (h+1)*side/workers
		for i, r := range rows {
			src, sum := d.images[r*side+lo:r*side+hi], sums[labels[i]][lo:hi]
			for j, v := range src {
				sum[j] += model.Unit[v]
			}
		}
	})
	impl, serial := blas.Serial()
	streams := 1
	if blocks := (len(rows) + embedRows - 1) / embedRows; serial && blocks >= workers {
		streams = workers
	} else {
		impl = blas.Float32()
	}
	var next atomic.Int64
	var g errgroup.Group
	for range streams {
		g.Go(runner.Guarded(func() error {
			var x []float32
			for {
				r0 := int(next.Add(int64(embedRows))) - embedRows
				if r0 >= len(rows) {
					return nil
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				block := rows[r0:min(len(rows), r0+embedRows)]
				if x == nil {
					x = make([]float32, min(len(rows), embedRows)*side)
				}
				for i, r := range block {
					d.image(int64(r), x[i*side:(i+1)*side])
				}
				copy(emb[r0*dim:], model.EmbedWith(impl, w, x, len(block)))
			}
		}))
	}
	if err := g.Wait(); err != nil {
		return nil, nil, nil, err
	}
	for c, s := range sums {
		for j := range s {
			s[j] /= float32(counts[c])
		}
	}
	return emb, labels, sums, nil
}

// splitImages returns the rows of images.npy that training used (the
// model's training images, else those of the training triplets), and up
// to limit evenly spread rows of those it did not, less the validation
// images.
func splitImages(d *data, limit int) (ref, query []int, err error) {
	used, err := d.trainingImages()
	if err != nil {
		return nil, nil, err
	}
	val := make([]bool, len(used))
	for _, r := range d.validationImages() {
		val[r] = true
	}
	var unused []int
	for i, u := range used {
		if u {
			ref = append(ref, i)
		} else if !val[i] {
			unused = append(unused, i)
		}
	}
	return ref, spread(unused, limit), nil
}

// validationImages are the model's validation images (train.val_images),
// none if it has none.
func (d *data) validationImages() []int {
	if d.trained == nil {
		return nil
	}
	out := make([]int, len(d.trained.valRows))
	for i, r := range d.trained.valRows {
		out[i] = int(r)
	}
	return out
}

// spread returns up to limit elements of v, evenly spaced.
func spread(v []int, limit int) []int {
	if limit <= 0 || len(v) <= limit {
		return v
	}
	out := make([]int, limit)
	for i := range out {
		out[i] = v[i*len(v)/limit]
	}
	return out
}

// anomaly scores each class against the rest by cosine distance to an
// anchor: the class's mean reference embedding, and the embedding of its
// mean reference image; it returns them in a Retrieval with the other
// fields zero, and the names of the classes it could not score: those the
// queries hold no image of, or only images of (small classes of a folder
// dataset, whose images training used up).
func anomaly(ctx context.Context, w *model.Weights, d *data, q *queries) (Retrieval, []string, error) {
	dim := w.OutputDim()
	var r Retrieval
	var sumMean, sumImg float64
	var skipped []string
	for c, meanImg := range q.meanImgs {
		if meanImg == nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return Retrieval{}, nil, err
		}
		if in, out := queriesOf(q.labels, c); in == 0 || out == 0 {
			skipped = append(skipped, d.className(c))
			continue
		}
		byMean, err := metrics.ClassAUROC(q.emb, q.labels, dim, metrics.MeanEmbedding(q.refEmb, q.refLabels, dim, c), c)
		if err != nil {
			return Retrieval{}, nil, fmt.Errorf("class %d: %w", c, err)
		}
		byImg, err := metrics.ClassAUROC(q.emb, q.labels, dim, model.Embed(w, meanImg, 1), c)
		if err != nil {
			return Retrieval{}, nil, fmt.Errorf("class %d: %w", c, err)
		}
		r.PerClass = append(r.PerClass, Class{Class: c, Name: d.className(c), AnomalyMean: byMean, AnomalyImg: byImg})
		sumMean += byMean
		sumImg += byImg
	}
	if k := len(r.PerClass); k > 0 {
		r.AnomalyMean, r.AnomalyImg = sumMean/float64(k), sumImg/float64(k)
	}
	return r, skipped, nil
}

// queriesOf counts the queries of class c and of the other classes.
func queriesOf(qLab []int, c int) (in, out int) {
	for _, l := range qLab {
		if l == c {
			in++
		} else {
			out++
		}
	}
	return in, out
}

// pca draws up to params.pca_points embeddings in their first two
// principal components, coloured by class.
func pca(env *runner.Env, emb []float32, labels []int, dim int, names []string) error {
	idx := make([]int, len(labels))
	for i := range idx {
		idx[i] = i
	}
	idx = spread(idx, env.Params.Int("pca_points"))
	sub, cls := make([]float32, 0, len(idx)*dim), make([]int, len(idx))
	for i, r := range idx {
		sub = append(sub, emb[r*dim:(r+1)*dim]...)
		cls[i] = labels[r]
	}
	xy, err := metrics.PCA2(sub, len(idx), dim)
	if err != nil {
		return err
	}
	return plots.Scatter2D(env.Out("embedding_pca.png"), xy, cls, names)
}
