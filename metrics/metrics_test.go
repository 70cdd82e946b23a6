package metrics

import (
	"errors"
	"math"
	"testing"
)

const eps = 1e-9

func near(a, b, tol float64) bool {
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return a == b
	}
	return math.Abs(a-b) <= tol
}

func TestAngularSimilarity(t *testing.T) {
	for _, c := range []struct{ cos, want float64 }{
		{1, 1}, {0, 0.5}, {-1, 0}, {1.0000001, 1}, {-2, 0}, {math.Sqrt(0.5), 0.75},
	} {
		if got := AngularSimilarity(c.cos); !near(got, c.want, eps) {
			t.Errorf("AngularSimilarity(%v) = %v, want %v", c.cos, got, c.want)
		}
	}
}

func TestCosine(t *testing.T) {
	for _, c := range []struct {
		a, b []float32
		want float64
	}{
		{[]float32{1, 0}, []float32{0, 1}, 0},
		{[]float32{1, 2}, []float32{2, 4}, 1},
		{[]float32{1, 1}, []float32{-1, -1}, -1},
		{[]float32{0, 0}, []float32{1, 1}, 0},
		{[]float32{3, 4}, []float32{4, 3}, 24.0 / 25},
		{nil, nil, 0},
	} {
		if got := Cosine(c.a, c.b); !near(got, c.want, 1e-7) {
			t.Errorf("Cosine(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestBinaryAccuracy(t *testing.T) {
	s := []float64{0.2, 0.5, 0.7}
	for _, c := range []struct {
		labels []bool
		thr    float64
		want   float64
	}{
		{[]bool{false, false, true}, 0.5, 1}, // 0.5 is not > 0.5
		{[]bool{false, true, true}, 0.5, 2.0 / 3},
		{[]bool{false, true, true}, 0.4, 1},
		{[]bool{true, true, true}, 0.9, 0},
	} {
		if got := BinaryAccuracy(s, c.labels, c.thr); !near(got, c.want, eps) {
			t.Errorf("BinaryAccuracy(%v, %v) = %v, want %v", c.labels, c.thr, got, c.want)
		}
	}
	if got := BinaryAccuracy(nil, nil, 0.5); got != 0 {
		t.Errorf("empty: %v", got)
	}
}

// sklearn docs example: roc_auc_score = 0.75, average_precision_score = 0.8333.
var (
	exScores = []float64{0.1, 0.4, 0.35, 0.8}
	exLabels = []bool{false, false, true, true}
)

func TestROCAUC(t *testing.T) {
	for _, c := range []struct {
		name   string
		scores []float64
		labels []bool
		want   float64
	}{
		{"sklearn example", exScores, exLabels, 0.75},
		{"perfect", []float64{0.1, 0.2, 0.8, 0.9}, exLabels, 1},
		{"reversed", []float64{0.9, 0.8, 0.2, 0.1}, exLabels, 0},
		{"all tied", []float64{1, 1, 1, 1}, exLabels, 0.5},
		// pos {0.5, 0.9}, neg {0.5, 0.1}: pairs (0.5,0.5)=½ (0.5,0.1)=1 (0.9,*)=2 → 3.5/4
		{"one tie", []float64{0.5, 0.1, 0.5, 0.9}, exLabels, 0.875},
		{"imbalanced", []float64{0.3, 0.2, 0.1, 0.4, 0.25}, []bool{false, false, false, true, true}, 5.0 / 6},
	} {
		got, err := ROCAUC(c.scores, c.labels)
		if err != nil || !near(got, c.want, eps) {
			t.Errorf("%s: ROCAUC = %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

func TestROCErrors(t *testing.T) {
	bad := []struct {
		name   string
		scores []float64
		labels []bool
		oneCls bool
	}{
		{"mismatch", []float64{1, 2}, []bool{true}, false},
		{"empty", nil, nil, false},
		{"nan", []float64{1, math.NaN()}, []bool{true, false}, false},
		{"only positives", []float64{1, 2}, []bool{true, true}, true},
		{"only negatives", []float64{1, 2}, []bool{false, false}, true},
	}
	for _, c := range bad {
		_, err := ROCAUC(c.scores, c.labels)
		if err == nil || errors.Is(err, ErrOneClass) != c.oneCls {
			t.Errorf("%s: ROCAUC err = %v", c.name, err)
		}
		if _, _, _, err := ROCCurve(c.scores, c.labels); err == nil {
			t.Errorf("%s: ROCCurve: no error", c.name)
		}
		_, err = AveragePrecision(c.scores, c.labels)
		wantErr := c.name != "only positives"
		if (err != nil) != wantErr {
			t.Errorf("%s: AveragePrecision err = %v", c.name, err)
		}
	}
	if ap, err := AveragePrecision([]float64{1, 2}, []bool{true, true}); err != nil || ap != 1 {
		t.Errorf("all-positive AP = %v, %v; want 1", ap, err)
	}
}

func TestROCCurve(t *testing.T) {
	fpr, tpr, thr, err := ROCCurve(exScores, exLabels)
	if err != nil {
		t.Fatal(err)
	}
	wantF := []float64{0, 0, 0.5, 0.5, 1}
	wantT := []float64{0, 0.5, 0.5, 1, 1}
	wantThr := []float64{math.Inf(1), 0.8, 0.4, 0.35, 0.1}
	for i := range wantF {
		if !near(fpr[i], wantF[i], eps) || !near(tpr[i], wantT[i], eps) || !near(thr[i], wantThr[i], eps) {
			t.Fatalf("ROCCurve = %v %v %v; want %v %v %v", fpr, tpr, thr, wantF, wantT, wantThr)
		}
	}
	// Ties are grouped into a single point.
	fpr, _, _, _ = ROCCurve([]float64{1, 1, 1, 1}, exLabels)
	if len(fpr) != 2 {
		t.Errorf("tied scores: %d points, want 2", len(fpr))
	}
}

func TestAveragePrecision(t *testing.T) {
	for _, c := range []struct {
		name   string
		scores []float64
		labels []bool
		want   float64
	}{
		{"sklearn example", exScores, exLabels, 5.0 / 6},
		{"perfect", []float64{0.1, 0.2, 0.8, 0.9}, exLabels, 1},
		{"all tied", []float64{1, 1, 1, 1}, exLabels, 0.5},
		// ranks: pos, neg, pos → (1/2)(1) + (1/2)(2/3)
		{"interleaved", []float64{3, 2, 1}, []bool{true, false, true}, 0.5 + 1.0/3},
	} {
		got, err := AveragePrecision(c.scores, c.labels)
		if err != nil || !near(got, c.want, eps) {
			t.Errorf("%s: AveragePrecision = %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

func TestBestThresholdAccuracy(t *testing.T) {
	for _, c := range []struct {
		name            string
		scores          []float64
		labels          []bool
		wantAcc, wantTh float64
	}{
		{"sklearn example", exScores, exLabels, 0.75, 0.225},
		{"separable", []float64{0.1, 0.2, 0.8, 0.9}, exLabels, 1, 0.5},
		{"all positive", []float64{0.3, 0.1}, []bool{true, true}, 1, math.Inf(-1)},
		{"all negative", []float64{0.3, 0.1}, []bool{false, false}, 1, 0.3},
		{"ties", []float64{0.5, 0.5, 0.5, 0.9}, []bool{false, true, false, true}, 0.75, 0.7},
		{"empty", nil, nil, 0, 0},
	} {
		acc, th := BestThresholdAccuracy(c.scores, c.labels)
		if !near(acc, c.wantAcc, eps) || !near(th, c.wantTh, eps) {
			t.Errorf("%s: BestThresholdAccuracy = %v, %v; want %v, %v", c.name, acc, th, c.wantAcc, c.wantTh)
		}
		if len(c.scores) > 0 {
			if got := BinaryAccuracy(c.scores, c.labels, th); !near(got, acc, eps) {
				t.Errorf("%s: BinaryAccuracy at best threshold = %v, want %v", c.name, got, acc)
			}
		}
	}
	// Adjacent floats: the threshold must still separate them.
	a := 1.0
	b := math.Nextafter(a, 2)
	acc, th := BestThresholdAccuracy([]float64{a, b}, []bool{false, true})
	if acc != 1 || BinaryAccuracy([]float64{a, b}, []bool{false, true}, th) != 1 {
		t.Errorf("adjacent floats: acc %v th %v", acc, th)
	}
}

func TestMeanEmbedding(t *testing.T) {
	emb := []float32{1, 2, 3, 4, 10, 10, 5, 6}
	labels := []int{0, 0, 1, 0}
	got := MeanEmbedding(emb, labels, 2, 0)
	if len(got) != 2 || got[0] != 3 || got[1] != 4 {
		t.Errorf("MeanEmbedding = %v, want [3 4]", got)
	}
	if got := MeanEmbedding(emb, labels, 2, 7); got != nil {
		t.Errorf("absent class: %v, want nil", got)
	}
}

func TestClassAUROC(t *testing.T) {
	// Class 0 points near (1,0); others spread away from it.
	emb := []float32{1, 0.1, 1, -0.1, 0.9, 0, 0, 1, -1, 0, 1, 1}
	labels := []int{0, 0, 0, 1, 2, 1}
	anchor := MeanEmbedding(emb, labels, 2, 0)
	auc, err := ClassAUROC(emb, labels, 2, anchor, 0)
	if err != nil || auc != 1 {
		t.Errorf("ClassAUROC = %v, %v; want 1", auc, err)
	}
	// Anchor opposite: normal items look most anomalous.
	auc, err = ClassAUROC(emb, labels, 2, []float32{-1, 0}, 0)
	if err != nil || auc != 0 {
		t.Errorf("ClassAUROC(opposite) = %v, %v; want 0", auc, err)
	}
	if _, err := ClassAUROC(emb, labels, 2, []float32{1}, 0); err == nil {
		t.Error("anchor length mismatch: no error")
	}
	if _, err := ClassAUROC(emb[:5], labels, 2, anchor, 0); err == nil {
		t.Error("emb length mismatch: no error")
	}
	if _, err := ClassAUROC(emb, labels, 2, anchor, 9); !errors.Is(err, ErrOneClass) {
		t.Errorf("absent class: err = %v", err)
	}
}

func TestPCA2(t *testing.T) {
	// Points on a line along (1,2,2)/3 plus a small offset along (2,1,-2)/3.
	n, dim := 5, 3
	emb := make([]float32, 0, n*dim)
	ts := []float64{-2, -1, 0, 1, 2}
	us := []float64{0.1, -0.1, 0, -0.1, 0.1} // uncorrelated with ts
	for i, tt := range ts {
		for j := 0; j < dim; j++ {
			emb = append(emb, float32(tt*[]float64{1, 2, 2}[j]/3+us[i]*[]float64{2, 1, -2}[j]/3))
		}
	}
	xy, err := PCA2(emb, n, dim)
	if err != nil {
		t.Fatal(err)
	}
	mt, mu := 0.0, 0.0 // means of ts and us
	for i := range ts {
		if !near(xy[2*i], ts[i]-mt, 1e-5) || !near(math.Abs(xy[2*i+1]), math.Abs(us[i]-mu), 1e-5) {
			t.Errorf("row %d: got %v %v, want %v ±%v", i, xy[2*i], xy[2*i+1], ts[i]-mt, us[i]-mu)
		}
	}
	if _, err := PCA2(emb, n, 4); err == nil {
		t.Error("shape mismatch: no error")
	}
	if _, err := PCA2(emb[:3], 1, 3); err == nil {
		t.Error("n=1: no error")
	}
}
