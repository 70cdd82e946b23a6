package evaluate

import (
	"context"
	"fmt"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/metrics"
	"github.com/siamese-pipeline/siamese/model"
	"github.com/siamese-pipeline/siamese/plots"
	"github.com/siamese-pipeline/siamese/runner"
)

// scoreImages embeds the images the training triplets used (the
// reference) and up to params.queries of those they did not (the
// queries), and scores retrieval and per-class anomaly detection.
func scoreImages(ctx context.Context, env *runner.Env, w *model.Weights, m *Metrics) error {
	images, shape, err := artifacts.ReadNPY[uint8](env.In("images.npy"))
	if err != nil {
		return err
	}
	labels, _, err := artifacts.ReadNPY[uint8](env.In("labels.npy"))
	if err != nil {
		return err
	}
	if len(shape) < 2 || shape[0] != len(labels) {
		return fmt.Errorf("images.npy shape %v does not fit %d labels", shape, len(labels))
	}
	side := len(images) / max(len(labels), 1)
	if side != w.InputDim() {
		return fmt.Errorf("images have %d pixels, the network takes %d", side, w.InputDim())
	}
	ref, query, err := splitImages(env, len(labels), env.Params.Int("queries"))
	if err != nil {
		return err
	}
	m.Reference, m.Queries = len(ref), len(query)
	if len(ref) == 0 || len(query) == 0 {
		env.Log.Warn("no unused images to score retrieval on", "reference", len(ref), "queries", len(query))
		return nil
	}
	pixels := func(rows []int) []float32 {
		x := make([]float32, len(rows)*side)
		for i, r := range rows {
			for j, v := range images[r*side : (r+1)*side] {
				x[i*side+j] = float32(float64(v) / 255)
			}
		}
		return x
	}
	labelsOf := func(rows []int) []int {
		l := make([]int, len(rows))
		for i, r := range rows {
			l[i] = int(labels[r])
		}
		return l
	}
	dim := w.OutputDim()
	refX := pixels(ref)
	refEmb, refLab := model.Embed(w, refX, len(ref)), labelsOf(ref)
	qEmb, qLab := model.Embed(w, pixels(query), len(query)), labelsOf(query)
	if err := ctx.Err(); err != nil {
		return err
	}
	m.KNN1 = metrics.KNNAccuracy(refEmb, refLab, qEmb, qLab, dim, 1)
	m.KNN5 = metrics.KNNAccuracy(refEmb, refLab, qEmb, qLab, dim, 5)
	m.PrecisionAt = metrics.PrecisionAt1(qEmb, qLab, dim)
	m.MAPAtR = metrics.MAPAtR(qEmb, qLab, dim)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := anomaly(w, refX, refEmb, refLab, qEmb, qLab, m); err != nil {
		return err
	}
	return pca(env, qEmb, qLab, dim)
}

// splitImages returns the rows of images.npy that training triplets used,
// and up to limit evenly spread rows of those they did not.
func splitImages(env *runner.Env, n, limit int) (ref, query []int, err error) {
	table, err := artifacts.ReadArrow(env.In("triplets.arrow"))
	if err != nil {
		return nil, nil, err
	}
	trainRows, _, err := artifacts.ReadNPY[int64](env.In("train_rows.npy"))
	if err != nil {
		return nil, nil, err
	}
	used := make([]bool, n)
	for _, col := range []string{"anchor", "positive", "negative"} {
		v, err := table.Int64(col)
		if err != nil {
			return nil, nil, err
		}
		for _, t := range trainRows {
			if t < 0 || t >= int64(len(v)) || v[t] < 0 || v[t] >= int64(n) {
				return nil, nil, fmt.Errorf("training triplet %d names no image of images.npy", t)
			}
			used[v[t]] = true
		}
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
// mean reference image.
func anomaly(w *model.Weights, refX, refEmb []float32, refLab []int, qEmb []float32, qLab []int, m *Metrics) error {
	dim, side := w.OutputDim(), w.InputDim()
	classes := 0
	for _, l := range refLab {
		classes = max(classes, l+1)
	}
	var sumMean, sumImg float64
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
		for j := range meanImg {
			meanImg[j] /= float32(count)
		}
		byMean, err := metrics.ClassAUROC(qEmb, qLab, dim, metrics.MeanEmbedding(refEmb, refLab, dim, c), c)
		if err != nil {
			return fmt.Errorf("class %d: %w", c, err)
		}
		byImg, err := metrics.ClassAUROC(qEmb, qLab, dim, model.Embed(w, meanImg, 1), c)
		if err != nil {
			return fmt.Errorf("class %d: %w", c, err)
		}
		name := fmt.Sprintf("class %d", c)
		if c < len(plots.FashionClasses) {
			name = plots.FashionClasses[c]
		}
		m.PerClass = append(m.PerClass, Class{Class: c, Name: name, AnomalyMean: byMean, AnomalyImg: byImg})
		sumMean += byMean
		sumImg += byImg
	}
	if k := len(m.PerClass); k > 0 {
		m.AnomalyMean, m.AnomalyImg = sumMean/float64(k), sumImg/float64(k)
	}
	return nil
}

// pca draws up to params.pca_points query embeddings in their first two
// principal components, coloured by class.
func pca(env *runner.Env, emb []float32, labels []int, dim int) error {
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
	return plots.Scatter2D(env.Out("embedding_pca.png"), xy, cls, plots.FashionClasses)
}
