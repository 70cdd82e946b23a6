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

// testSet is the test triplets, embedded.
type testSet struct {
	n, dim  int
	rows    []int64   // rows of triplets.arrow
	emb     []float32 // 3n × dim: anchor, positive, negative of each triplet
	classes []int     // the class of each triplet
}

func (t *testSet) row(i, k int) []float32 { return t.emb[(3*i+k)*t.dim : (3*i+k+1)*t.dim] }

// column gathers the anchors (k = 0), positives (1) or negatives (2).
func (t *testSet) column(k int) []float32 {
	out := make([]float32, 0, t.n*t.dim)
	for i := range t.n {
		out = append(out, t.row(i, k)...)
	}
	return out
}

func (t *testSet) anchors() []float32 { return t.column(0) }

// embedBlock is how many test triplets are gathered from the images and
// embedded at once: a multiple of model.Embed's own blocks, so that the
// embeddings equal those of all the triplets embedded in one call.
const embedBlock = 512

// embedTest embeds the test triplets (the rows test_rows.npy names),
// gathered from the uint8 images a block at a time.
func embedTest(ctx context.Context, w *model.Weights, d *data) (*testSet, error) {
	if d.pixels != w.InputDim() {
		return nil, fmt.Errorf("the images have %d pixels, the network takes %d", d.pixels, w.InputDim())
	}
	tr := model.ImageTriplets{Pixels: d.images, D: d.pixels}
	t := &testSet{n: len(d.testRows), dim: w.OutputDim(), rows: d.testRows, classes: make([]int, len(d.testRows))}
	for i, r := range t.rows {
		tr.Rows = append(tr.Rows, int32(d.anchor[r]), int32(d.positive[r]), int32(d.negative[r]))
		t.classes[i] = int(d.class[r])
	}
	t.emb = make([]float32, 0, 3*t.n*t.dim)
	buf := make([]float32, 3*min(t.n, embedBlock)*d.pixels)
	idx := make([]int, 0, embedBlock)
	for i := 0; i < t.n; i += embedBlock {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		idx = idx[:0]
		for j := i; j < min(t.n, i+embedBlock); j++ {
			idx = append(idx, j)
		}
		tr.Gather(buf, idx)
		t.emb = append(t.emb, model.Embed(w, buf, 3*len(idx))...)
	}
	return t, nil
}

// decisionThreshold is the similarity above which a pair is called the
// same class, as Keras's binary accuracy rounds at 0.5.
const decisionThreshold = 0.5

// scoreTriplets scores (anchor, positive) pairs against (anchor, negative)
// pairs by angular similarity, and writes the embeddings, the scores and
// their plots.
func scoreTriplets(env *runner.Env, t *testSet) (*Metrics, error) {
	n := t.n
	scores, labels := make([]float64, 2*n), make([]bool, 2*n)
	for i := range n {
		scores[i], labels[i] = metrics.AngularSimilarity(metrics.Cosine(t.row(i, 0), t.row(i, 1))), true
		scores[n+i] = metrics.AngularSimilarity(metrics.Cosine(t.row(i, 0), t.row(i, 2)))
	}
	m := &Metrics{TestTriplets: n, BinaryAccuracy: metrics.BinaryAccuracy(scores, labels, decisionThreshold)}
	var err error
	if m.ROCAUC, err = metrics.ROCAUC(scores, labels); err != nil {
		return nil, err
	}
	if m.PRAUC, err = metrics.AveragePrecision(scores, labels); err != nil {
		return nil, err
	}
	m.BestAccuracy, m.BestThreshold = metrics.BestThresholdAccuracy(scores, labels)

	class := make([]int64, n) // -1: unknown
	for i := range class {
		class[i] = int64(t.classes[i])
	}
	embCols := artifacts.NewColumns().Int64("id", t.rows).Int64("class", class).FixedFloat32("anchor", t.column(0), t.dim).
		FixedFloat32("positive", t.column(1), t.dim).FixedFloat32("negative", t.column(2), t.dim)
	if err := artifacts.WriteArrow(env.Out("embeddings.arrow"), embCols); err != nil {
		return nil, err
	}
	pair, id, kind, label, pairClass := make([]int64, 2*n), make([]int64, 2*n), make([]string, 2*n), make([]int64, 2*n), make([]int64, 2*n)
	for i := range 2 * n {
		pair[i], id[i], pairClass[i], kind[i] = int64(i), t.rows[i%n], class[i%n], "negative"
		if labels[i] {
			kind[i], label[i] = "positive", 1
		}
	}
	scoreCols := artifacts.NewColumns().Int64("pair", pair).Int64("id", id).Int64("class", pairClass).
		String("kind", kind).Float64("similarity", scores).Int64("label", label)
	if err := artifacts.WriteArrow(env.Out("scores.arrow"), scoreCols); err != nil {
		return nil, err
	}
	fpr, tpr, _, err := metrics.ROCCurve(scores, labels)
	if err != nil {
		return nil, err
	}
	if err := plots.ROC(env.Out("roc.png"), fpr, tpr, m.ROCAUC); err != nil {
		return nil, err
	}
	return m, plots.SimilarityHist(env.Out("similarity_hist.png"), scores[:n], scores[n:],
		plots.Mark{X: decisionThreshold, Label: fmt.Sprintf("Decision threshold %g", decisionThreshold)})
}
