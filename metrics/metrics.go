// Package metrics provides the evaluation metrics of the Siamese pipeline:
// pair-level scores (angular similarity, binary accuracy, ROC/PR curves),
// embedding-level retrieval metrics (kNN accuracy, precision@1, MAP@R),
// the class-vs-rest anomaly AUROC, and a 2-D PCA projection for plots.
//
// Embeddings are float32, row-major n×dim slices. Similarities between
// embeddings are cosine similarities; rows of zero norm have similarity 0 with
// everything. Functions that return an error report mismatched lengths through
// it; the others document their preconditions and panic when they are broken.
package metrics

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// AngularSimilarity maps a cosine similarity to 1 − arccos(cos)/π, in [0, 1].
// cos is clamped to [−1, 1] first so rounding noise cannot produce NaN.
func AngularSimilarity(cos float64) float64 {
	if cos > 1 {
		cos = 1
	} else if cos < -1 {
		cos = -1
	}
	return 1 - math.Acos(cos)/math.Pi
}

// Cosine returns the cosine similarity of a and b, accumulated in float64.
// It returns 0 when either vector has zero norm. a and b must have the same
// length; Cosine panics otherwise.
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("metrics: Cosine length mismatch %d != %d", len(a), len(b)))
	}
	var dot, na, nb float64
	for i, x := range a {
		y := float64(b[i])
		xf := float64(x)
		dot += xf * y
		na += xf * xf
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / (math.Sqrt(na) * math.Sqrt(nb))
}

// BinaryAccuracy returns the fraction of items whose prediction
// (score > threshold, strictly, as Keras' binary_accuracy) equals the label.
// It returns 0 for empty input and panics if the lengths differ.
func BinaryAccuracy(scores []float64, labels []bool, threshold float64) float64 {
	mustSameLen(len(scores), len(labels), "BinaryAccuracy")
	if len(scores) == 0 {
		return 0
	}
	correct := 0
	for i, s := range scores {
		if (s > threshold) == labels[i] {
			correct++
		}
	}
	return float64(correct) / float64(len(scores))
}

// MeanEmbedding returns the mean (accumulated in float64) of the rows of emb
// whose label is class, or nil if there are none. len(emb) must be
// len(labels)*dim; MeanEmbedding panics otherwise.
func MeanEmbedding(emb []float32, labels []int, dim, class int) []float32 {
	mustShape(emb, len(labels), dim, "MeanEmbedding")
	sum := make([]float64, dim)
	cnt := 0
	for i, l := range labels {
		if l != class {
			continue
		}
		cnt++
		for j, v := range emb[i*dim : (i+1)*dim] {
			sum[j] += float64(v)
		}
	}
	if cnt == 0 {
		return nil
	}
	out := make([]float32, dim)
	for j, s := range sum {
		out[j] = float32(s / float64(cnt))
	}
	return out
}

// ClassAUROC is the anomaly-detection AUROC of one class against the rest.
// Each embedding is scored by its cosine distance 1 − cos(e, anchor) to the
// anchor (typically MeanEmbedding of the class); items of class are normal,
// all others are anomalies (positives), and the result is ROCAUC of the
// distances. It errors on mismatched shapes or when either group is empty.
func ClassAUROC(emb []float32, labels []int, dim int, anchor []float32, class int) (float64, error) {
	if dim <= 0 || len(emb) != len(labels)*dim {
		return 0, fmt.Errorf("metrics: ClassAUROC: len(emb)=%d, want len(labels)*dim=%d*%d", len(emb), len(labels), dim)
	}
	if len(anchor) != dim {
		return 0, fmt.Errorf("metrics: ClassAUROC: len(anchor)=%d, want dim=%d", len(anchor), dim)
	}
	dist := make([]float64, len(labels))
	anom := make([]bool, len(labels))
	for i, l := range labels {
		dist[i] = 1 - Cosine(emb[i*dim:(i+1)*dim], anchor)
		anom[i] = l != class
	}
	auc, err := ROCAUC(dist, anom)
	if err != nil {
		return 0, fmt.Errorf("metrics: ClassAUROC class %d: %w", class, err)
	}
	return auc, nil
}

// PCA2 projects the n×dim embeddings onto their first two principal
// components (centred, unscaled; gonum stat.PrincipalComponents) and returns
// the n×2 row-major coordinates. Each component's sign is fixed so that its
// largest-magnitude loading is positive, making the output deterministic.
// It needs n ≥ 2 and dim ≥ 2.
func PCA2(emb []float32, n, dim int) ([]float64, error) {
	if n < 2 || dim < 2 {
		return nil, fmt.Errorf("metrics: PCA2 needs n >= 2 and dim >= 2, got n=%d dim=%d", n, dim)
	}
	if len(emb) != n*dim {
		return nil, fmt.Errorf("metrics: PCA2: len(emb)=%d, want n*dim=%d", len(emb), n*dim)
	}
	data := make([]float64, n*dim)
	for i, v := range emb {
		data[i] = float64(v)
	}
	x := mat.NewDense(n, dim, data)
	var pc stat.PC
	if !pc.PrincipalComponents(x, nil) {
		return nil, errors.New("metrics: PCA2: SVD failed")
	}
	var vecs mat.Dense
	pc.VectorsTo(&vecs)
	// Centre the data.
	means := make([]float64, dim)
	for i := 0; i < n; i++ {
		for j := 0; j < dim; j++ {
			means[j] += data[i*dim+j]
		}
	}
	for j := range means {
		means[j] /= float64(n)
	}
	for i := 0; i < n; i++ {
		for j := 0; j < dim; j++ {
			data[i*dim+j] -= means[j]
		}
	}
	w := mat.DenseCopyOf(vecs.Slice(0, dim, 0, 2))
	for c := 0; c < 2; c++ {
		best, sign := 0.0, 1.0
		for j := 0; j < dim; j++ {
			if v := w.At(j, c); math.Abs(v) > best {
				best = math.Abs(v)
				sign = math.Copysign(1, v)
			}
		}
		if sign < 0 {
			for j := 0; j < dim; j++ {
				w.Set(j, c, -w.At(j, c))
			}
		}
	}
	var out mat.Dense
	out.Mul(x, w)
	return out.RawMatrix().Data, nil
}

func mustSameLen(a, b int, fn string) {
	if a != b {
		panic(fmt.Sprintf("metrics: %s: length mismatch %d != %d", fn, a, b))
	}
}

func mustShape(emb []float32, n, dim int, fn string) {
	if dim <= 0 || len(emb) != n*dim {
		panic(fmt.Sprintf("metrics: %s: len(emb)=%d, want %d*%d", fn, len(emb), n, dim))
	}
}
