package evaluate

import (
	"context"
	"fmt"

	"github.com/siamese-pipeline/siamese/metrics"
	"github.com/siamese-pipeline/siamese/model"
	"github.com/siamese-pipeline/siamese/plots"
	"github.com/siamese-pipeline/siamese/runner"
)

// queries are the embedded images no training triplet used.
type queries struct {
	emb    []float32
	labels []int
	// The reference images' embeddings, for anchors.go.
	refEmb    []float32
	refLabels []int
}

// scoreImages embeds the images the training triplets used (the
// reference) and up to params.queries of those they did not (the
// queries), and scores retrieval and per-class anomaly detection. It
// returns nil, nil when there are no queries.
func scoreImages(ctx context.Context, env *runner.Env, w *model.Weights, d *data) (*Retrieval, *queries, error) {
	ref, query, err := splitImages(d, env.Params.Int("queries"))
	if err != nil {
		return nil, nil, err
	}
	if len(ref) == 0 || len(query) == 0 {
		env.Log.Warn("no image is left that training did not use: retrieval and anomaly metrics are left out")
		return nil, nil, nil
	}
	embed := func(rows []int) ([]float32, []float32, []int) {
		x, labels := make([]float32, len(rows)*d.pixels), make([]int, len(rows))
		for i, r := range rows {
			d.image(int64(r), x[i*d.pixels:(i+1)*d.pixels])
			labels[i] = int(d.labels[r])
		}
		return x, model.Embed(w, x, len(rows)), labels
	}
	refX, refEmb, refLab := embed(ref)
	_, qEmb, qLab := embed(query)
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	dim := w.OutputDim()
	r := &Retrieval{Reference: len(ref), Queries: len(query),
		KNN1:        metrics.KNNAccuracy(refEmb, refLab, qEmb, qLab, dim, 1),
		KNN5:        metrics.KNNAccuracy(refEmb, refLab, qEmb, qLab, dim, 5),
		PrecisionAt: metrics.PrecisionAt1(qEmb, qLab, dim),
		MAPAtR:      metrics.MAPAtR(qEmb, qLab, dim)}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	skipped, err := anomaly(w, d, refX, refEmb, refLab, qEmb, qLab, r)
	if err != nil {
		return nil, nil, err
	}
	if len(skipped) > 0 {
		env.Log.Warn("classes left out of the anomaly metrics: the queries hold none of them, or nothing else", "classes", skipped)
	}
	env.Log.Info("retrieval", "knn_k1", r.KNN1, "map_at_r", r.MAPAtR, "anomaly_auroc", r.AnomalyMean)
	return r, &queries{emb: qEmb, labels: qLab, refEmb: refEmb, refLabels: refLab}, nil
}

// splitImages returns the rows of images.npy that training triplets used,
// and up to limit evenly spread rows of those they did not.
func splitImages(d *data, limit int) (ref, query []int, err error) {
	used := make([]bool, len(d.labels))
	for _, t := range d.trainRows {
		if t < 0 || t >= int64(len(d.anchor)) {
			return nil, nil, fmt.Errorf("training triplet %d is not in triplets.arrow", t)
		}
		used[d.anchor[t]], used[d.positive[t]], used[d.negative[t]] = true, true, true
	}
	var unused []int
	for i, u := range used {
		if u {
			ref = append(ref, i)
		} else {
			unused = append(unused, i)
		}
	}
	return ref, spread(unused, limit), nil
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
// mean reference image. It returns the names of the classes it could not
// score: those the queries hold no image of, or only images of (small
// classes of a folder dataset, whose images training used up).
func anomaly(w *model.Weights, d *data, refX, refEmb []float32, refLab []int, qEmb []float32, qLab []int, r *Retrieval) ([]string, error) {
	dim, side := w.OutputDim(), w.InputDim()
	classes := 0
	for _, l := range refLab {
		classes = max(classes, l+1)
	}
	var sumMean, sumImg float64
	var skipped []string
	for c := range classes {
		meanImg, count := make([]float32, side), 0
		for i, l := range refLab {
			if l == c {
				for j, v := range refX[i*side : (i+1)*side] {
					meanImg[j] += v
				}
				count++
			}
		}
		if count == 0 {
			continue
		}
		if in, out := queriesOf(qLab, c); in == 0 || out == 0 {
			skipped = append(skipped, d.className(c))
			continue
		}
		for j := range meanImg {
			meanImg[j] /= float32(count)
		}
		byMean, err := metrics.ClassAUROC(qEmb, qLab, dim, metrics.MeanEmbedding(refEmb, refLab, dim, c), c)
		if err != nil {
			return nil, fmt.Errorf("class %d: %w", c, err)
		}
		byImg, err := metrics.ClassAUROC(qEmb, qLab, dim, model.Embed(w, meanImg, 1), c)
		if err != nil {
			return nil, fmt.Errorf("class %d: %w", c, err)
		}
		r.PerClass = append(r.PerClass, Class{Class: c, Name: d.className(c), AnomalyMean: byMean, AnomalyImg: byImg})
		sumMean += byMean
		sumImg += byImg
	}
	if k := len(r.PerClass); k > 0 {
		r.AnomalyMean, r.AnomalyImg = sumMean/float64(k), sumImg/float64(k)
	}
	return skipped, nil
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
