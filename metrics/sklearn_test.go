package metrics

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/siamese-pipeline/siamese/internal/pytest"
)

// runPython runs script with input JSON-encoded on stdin and decodes the
// JSON it prints into out. It skips the test if python, numpy or sklearn is
// missing.
func runPython(t *testing.T, script string, input, out any) {
	t.Helper()
	python := pytest.Need(t, "numpy", "sklearn")
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", script)
	// Single-threaded BLAS: the inputs are tiny and the machine is shared.
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1", "MKL_NUM_THREADS=1")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("python failed: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(res, out); err != nil {
		t.Fatalf("decoding python output: %v\n%s", err, res)
	}
}

type scoreCase struct {
	Scores []float64 `json:"scores"`
	Labels []bool    `json:"labels"`
}

func TestSklearnParityScores(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(42, 7))
	var cases []scoreCase
	for i := 0; i < 40; i++ {
		n := 2 + r.IntN(300)
		pPos := 0.05 + 0.9*r.Float64()
		levels := []float64{3, 10, 100, 0}[i%4] // quantise to create ties; 0 = continuous
		c := scoreCase{Scores: make([]float64, n), Labels: make([]bool, n)}
		for j := range c.Scores {
			c.Labels[j] = r.Float64() < pPos
			s := r.NormFloat64()
			if c.Labels[j] {
				s += 0.8
			}
			if levels > 0 {
				s = math.Round(s*levels) / levels
			}
			c.Scores[j] = s
		}
		c.Labels[0], c.Labels[1] = true, false // both classes present
		cases = append(cases, c)
	}
	const script = `
import json, sys
import numpy as np
from sklearn.metrics import roc_auc_score, average_precision_score, roc_curve
out = []
for c in json.load(sys.stdin):
    y, s = np.array(c["labels"], dtype=bool), np.array(c["scores"], dtype=float)
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
    out.append({"auc": roc_auc_score(y, s), "ap": average_precision_score(y, s),
                "fpr": fpr.tolist(), "tpr": tpr.tolist(), "thr": thr[1:].tolist()})
print(json.dumps(out))
`
	var want []struct {
		AUC float64   `json:"auc"`
		AP  float64   `json:"ap"`
		FPR []float64 `json:"fpr"`
		TPR []float64 `json:"tpr"`
		Thr []float64 `json:"thr"`
	}
	runPython(t, script, cases, &want)
	for i, c := range cases {
		w := want[i]
		auc, err := ROCAUC(c.Scores, c.Labels)
		if err != nil || !near(auc, w.AUC, 1e-12) {
			t.Errorf("case %d: ROCAUC = %v (%v), sklearn %v", i, auc, err, w.AUC)
		}
		ap, err := AveragePrecision(c.Scores, c.Labels)
		if err != nil || !near(ap, w.AP, 1e-12) {
			t.Errorf("case %d: AveragePrecision = %v (%v), sklearn %v", i, ap, err, w.AP)
		}
		fpr, tpr, thr, err := ROCCurve(c.Scores, c.Labels)
		if err != nil || len(fpr) != len(w.FPR) || len(thr) != len(w.Thr)+1 {
			t.Errorf("case %d: ROCCurve len %d (%v), sklearn %d", i, len(fpr), err, len(w.FPR))
			continue
		}
		for j := range fpr {
			if !near(fpr[j], w.FPR[j], 1e-12) || !near(tpr[j], w.TPR[j], 1e-12) {
				t.Errorf("case %d point %d: (%v,%v), sklearn (%v,%v)", i, j, fpr[j], tpr[j], w.FPR[j], w.TPR[j])
				break
			}
			if j > 0 && thr[j] != w.Thr[j-1] {
				t.Errorf("case %d threshold %d: %v, sklearn %v", i, j, thr[j], w.Thr[j-1])
				break
			}
		}
	}
}

// f32 marshals float32 data as the exact float64 values (encoding/json
// would print the shortest float32 representation, which python reads as a
// slightly different float64).
type f32 []float32

func (x f32) MarshalJSON() ([]byte, error) {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return json.Marshal(y)
}

type embCase struct {
	Ref       f32   `json:"ref"`
	RefLabels []int `json:"ref_labels"`
	Query     f32   `json:"query"`
	QLabels   []int `json:"query_labels"`
	Dim       int   `json:"dim"`
	Ks        []int `json:"ks"`
}

func randEmb(r *rand.Rand, n, dim, classes int) ([]float32, []int) {
	// Class centres plus noise, so neighbours are informative but imperfect.
	centres := make([]float64, classes*dim)
	r2 := rand.New(rand.NewPCG(99, 1))
	for i := range centres {
		centres[i] = r2.NormFloat64()
	}
	emb := make([]float32, n*dim)
	labels := make([]int, n)
	for i := 0; i < n; i++ {
		labels[i] = r.IntN(classes)
		for j := 0; j < dim; j++ {
			emb[i*dim+j] = float32(centres[labels[i]*dim+j] + 1.2*r.NormFloat64())
		}
	}
	return emb, labels
}

// TestSklearnParityKNN compares kNN predictions with a brute-force
// NearestNeighbors(metric="cosine") search plus the documented tie rule,
// accuracies with KNeighborsClassifier(metric="cosine") where no vote can tie
// (k=1, and odd k with two classes), and P@1 / MAP@R with numpy.
func TestSklearnParityKNN(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	const dim = 8
	c := embCase{Dim: dim, Ks: []int{1, 2, 3, 4, 5, 10}}
	c.Ref, c.RefLabels = randEmb(r, 400, dim, 4)
	c.Query, c.QLabels = randEmb(r, 150, dim, 4)
	bin := embCase{Dim: dim, Ks: []int{1, 3, 5, 7}}
	bin.Ref, bin.RefLabels = randEmb(r, 300, dim, 2)
	bin.Query, bin.QLabels = randEmb(r, 120, dim, 2)
	const script = `
import json, sys
import numpy as np
from sklearn.neighbors import NearestNeighbors, KNeighborsClassifier
out = []
for c in json.load(sys.stdin):
    d = c["dim"]
    R = np.array(c["ref"], dtype=np.float64).reshape(-1, d)
    Q = np.array(c["query"], dtype=np.float64).reshape(-1, d)
    rl, ql = np.array(c["ref_labels"]), np.array(c["query_labels"])
    res = {"pred": {}, "acc": {}}
    nn = NearestNeighbors(metric="cosine", algorithm="brute").fit(R)
    for k in c["ks"]:
        _, idx = nn.kneighbors(Q, n_neighbors=k)
        pred = []
        for row in idx:
            labs = rl[row].tolist()
            counts = {l: labs.count(l) for l in labs}
            m = max(counts.values())
            pred.append(next(l for l in labs if counts[l] == m))  # tie: first ranked
        res["pred"][str(k)] = pred
        clf = KNeighborsClassifier(n_neighbors=k, metric="cosine", algorithm="brute").fit(R, rl)
        res["acc"][str(k)] = float(clf.score(Q, ql))
    # Leave-one-out P@1 and MAP@R on the reference set, brute force.
    X = R / np.linalg.norm(R, axis=1, keepdims=True)
    S = X @ X.T
    np.fill_diagonal(S, -np.inf)
    p1, aps = [], []
    for i in range(len(X)):
        order = np.argsort(-S[i], kind="stable")
        p1.append(rl[order[0]] == rl[i])
        Rn = int((rl == rl[i]).sum()) - 1
        if Rn == 0:
            continue
        rel = (rl[order[:Rn]] == rl[i]).astype(float)
        aps.append(float((np.cumsum(rel) / np.arange(1, Rn + 1) * rel).sum() / Rn))
    res["p1"] = float(np.mean(p1))
    res["mapr"] = float(np.mean(aps))
    out.append(res)
print(json.dumps(out))
`
	var want []struct {
		Pred map[string][]int   `json:"pred"`
		Acc  map[string]float64 `json:"acc"`
		P1   float64            `json:"p1"`
		MAPR float64            `json:"mapr"`
	}
	cases := []embCase{c, bin}
	runPython(t, script, cases, &want)
	for ci, c := range cases {
		w := want[ci]
		for _, k := range c.Ks {
			key := strconv.Itoa(k)
			pred := knnPredict(c.Ref, c.RefLabels, c.Query, c.Dim, k)
			mismatch := 0
			for i, p := range pred {
				if p != w.Pred[key][i] {
					mismatch++
				}
			}
			if mismatch > 0 {
				t.Errorf("case %d k=%d: %d/%d predictions differ from brute force", ci, k, mismatch, len(pred))
			}
			acc := KNNAccuracy(c.Ref, c.RefLabels, c.Query, c.QLabels, c.Dim, k)
			noVoteTies := k == 1 || (ci == 1 && k%2 == 1)
			if noVoteTies && !near(acc, w.Acc[key], 1e-12) {
				t.Errorf("case %d k=%d: KNNAccuracy %v, KNeighborsClassifier %v", ci, k, acc, w.Acc[key])
			}
			t.Logf("case %d k=%d: acc %.4f (sklearn classifier %.4f)", ci, k, acc, w.Acc[key])
		}
		if got := PrecisionAt1(c.Ref, c.RefLabels, c.Dim); !near(got, w.P1, 1e-12) {
			t.Errorf("case %d: PrecisionAt1 %v, numpy %v", ci, got, w.P1)
		}
		if got := MAPAtR(c.Ref, c.RefLabels, c.Dim); !near(got, w.MAPR, 1e-9) {
			t.Errorf("case %d: MAPAtR %v, numpy %v", ci, got, w.MAPR)
		}
	}
}

// TestSklearnParityPCA compares PCA2 with sklearn's PCA up to component sign.
func TestSklearnParityPCA(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(8, 9))
	const n, dim = 60, 6
	emb := make([]float32, n*dim)
	for i := range emb {
		emb[i] = float32(r.NormFloat64() * float64(1+i%dim))
	}
	const script = `
import json, sys
import numpy as np
from sklearn.decomposition import PCA
c = json.load(sys.stdin)
X = np.array(c["emb"], dtype=np.float64).reshape(c["n"], c["dim"])
print(json.dumps(PCA(n_components=2).fit_transform(X).ravel().tolist()))
`
	var want []float64
	runPython(t, script, map[string]any{"emb": f32(emb), "n": n, "dim": dim}, &want)
	got, err := PCA2(emb, n, dim)
	if err != nil {
		t.Fatal(err)
	}
	for c := 0; c < 2; c++ {
		sign := math.Copysign(1, got[c]*want[c])
		for i := 0; i < n; i++ {
			if !near(got[2*i+c], sign*want[2*i+c], 1e-9) {
				t.Fatalf("component %d row %d: %v, sklearn %v", c, i, got[2*i+c], want[2*i+c])
			}
		}
	}
}
