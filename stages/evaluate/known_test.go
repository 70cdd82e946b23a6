package evaluate

import (
	"context"
	"math"
	"testing"

	"github.com/siamese-pipeline/siamese/model"
)

// The retrieval and anomaly metrics on embeddings placed by hand in the
// plane, where cosine similarity is the angle between them, so that each
// metric's value is known by construction and each mix-up of inputs
// gives another value.

// at is the unit vector at deg degrees.
func at(deg ...float64) []float32 {
	var v []float32
	for _, d := range deg {
		s, c := math.Sincos(d * math.Pi / 180)
		v = append(v, float32(c), float32(s))
	}
	return v
}

// identity is a one-layer linear network that embeds a two-pixel image
// as itself.
var identity = &model.Weights{Layers: []model.Layer{{In: 2, Out: 2, W: []float32{1, 0, 0, 1}, B: []float32{0, 0}}}}

// TestRetrievalKnownValues: class 0's reference images lie at 0°–4°,
// class 1's at 90°–94°, each class with one stray in the other's
// direction (class 1 at 20°, class 0 at 70°). Of the queries, those at
// 5° (class 0) and 95° (class 1) have their own class nearest; those at
// 20° (class 0) and 70° (class 1) have the stray nearest but their own
// class four times among their five nearest. So kNN-1 is 0.5 and kNN-5
// is 1. Among the queries themselves each one's nearest other is of its
// class: P@1 and MAP@R are 1.
func TestRetrievalKnownValues(t *testing.T) {
	q := &queries{
		refEmb:    at(0, 1, 2, 3, 4, 70, 90, 91, 92, 93, 94, 20),
		refLabels: []int{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1},
		emb:       at(5, 20, 70, 95),
		labels:    []int{0, 0, 1, 1},
	}
	r, err := retrieval(context.Background(), q, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"knn_accuracy_k1", r.KNN1, 0.5}, {"knn_accuracy_k5", r.KNN5, 1}, {"precision_at_1", r.PrecisionAt, 1}, {"map_at_r", r.MAPAtR, 1}} {
		if c.got != c.want {
			t.Errorf("%s = %g, want %g", c.name, c.got, c.want)
		}
	}
}

// TestAnomalyKnownValues: the queries of class 0 lie at 0° and 40°, those
// of class 1 at 30° and 90°. Each class's AUROC scores the queries by
// their distance to an anchor; of the four (anomaly, normal) pairs of a
// class, the anchor decides how many are ordered right:
//
//	class 0, anchor 0° (mean of its reference, at ±5°):   3 of 4, 0.75
//	class 0, anchor 90° (its mean reference image):       1 of 4, 0.25
//	class 0, anchor 20° (mean of its queries):            2 of 4, 0.5
//	class 1, anchor 90° (mean of its reference, 85°, 95°): 3 of 4, 0.75
//	class 1, anchor 30° (its mean reference image):       2 of 4, 0.5
//
// An anchor taken from the queries, or the two AUROCs swapped, give
// other values.
func TestAnomalyKnownValues(t *testing.T) {
	q := &queries{
		refEmb:    at(-5, 5, 85, 95),
		refLabels: []int{0, 0, 1, 1},
		emb:       at(0, 40, 30, 90),
		labels:    []int{0, 0, 1, 1},
		meanImgs:  [][]float32{at(90), at(30)},
	}
	r, skipped, err := anomaly(context.Background(), identity, &data{}, q)
	if err != nil || len(skipped) > 0 {
		t.Fatalf("anomaly: %v, skipped %v", err, skipped)
	}
	want := []Class{{Class: 0, Name: "class 0", AnomalyMean: 0.75, AnomalyImg: 0.25}, {Class: 1, Name: "class 1", AnomalyMean: 0.75, AnomalyImg: 0.5}}
	if len(r.PerClass) != len(want) {
		t.Fatalf("per class %+v, want %+v", r.PerClass, want)
	}
	for i, w := range want {
		if r.PerClass[i] != w {
			t.Errorf("class %d: %+v, want %+v", i, r.PerClass[i], w)
		}
	}
	if r.AnomalyMean != 0.75 || r.AnomalyImg != 0.375 {
		t.Errorf("means over the classes: by mean embedding %g, by mean image %g; want 0.75 and 0.375", r.AnomalyMean, r.AnomalyImg)
	}
}
