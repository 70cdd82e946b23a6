package model

import (
	"fmt"
	"math"
	"slices"

	gblas "gonum.org/v1/gonum/blas"

	"github.com/siamese-pipeline/siamese/blas"
)

// Mining chooses, within a batch of labelled embeddings, the triplets
// (anchor, positive, negative) whose hinge losses are averaged:
//
//	l = max(0, cosd(a,p) − cosd(a,n) + margin), cosd(x,y) = 1 − x̂·ŷ.
//
// Every image of the batch is an anchor; its positives are the other
// images of its class, its negatives the images of other classes.
type Mining string

const (
	// BatchAll averages l over every triplet with l > 0: the hard
	// (cosd(a,n) < cosd(a,p)) and semi-hard (within the margin) ones.
	BatchAll Mining = "batch-all"
	// BatchHard takes, per anchor, its farthest positive and nearest
	// negative, and averages l over the anchors (Hermans et al. 2017).
	BatchHard Mining = "batch-hard"
	// SemiHard takes, per (anchor, positive) pair, the nearest negative
	// farther than the positive, or the farthest negative when there is
	// none, and averages l over the pairs (FaceNet; TensorFlow Addons'
	// triplet_semihard_loss).
	SemiHard Mining = "semi-hard"
)

// Minings lists the mined training modes.
var Minings = []Mining{BatchAll, BatchHard, SemiHard}

func (m Mining) valid() bool {
	switch m {
	case BatchAll, BatchHard, SemiHard:
		return true
	}
	return false
}

// minedLoss returns the loss of the n rows of e (n × d) with labels y under
// mining m: the mean of the mined triplets' hinge losses (0 when no triplet
// is mined). If de is not nil it also writes scale·∂loss/∂e into it (n × d).
// The mined set is held fixed in the derivative, as in every mining loss:
// it is the gradient almost everywhere. The products of unit rows go through
// the selected BLAS in float32, the rest runs in float64. work holds the
// scratch memory, and the mining of the last e it saw, which the gradient
// reuses when called again on the same values.
func minedLoss(e []float32, y []int32, n, d int, m Mining, margin float32, scale float64, de []float32, work *minedWork) float64 {
	w := work.prepare(n, d)
	if !w.valid || w.mining != m || w.margin != margin || !slices.Equal(w.e, e[:n*d]) || !slices.Equal(w.y, y[:n]) {
		w.mine(e, y, n, d, m, margin)
	}
	if de != nil {
		w.backward(scale, de[:n*d])
	}
	return w.loss
}

// minedWork is minedLoss's scratch memory and its last mining.
type minedWork struct {
	n, d   int
	e      []float32 // the embeddings mined
	y      []int32
	mining Mining
	margin float32
	valid  bool

	u, gram, gs, du []float32 // unit rows; their Gram matrix; g + gᵀ; ∂loss/∂û (n × d)
	r, sq, g        []float64 // norms and squared norms; ∂(sum)/∂cos(i,j)
	neg             []int32
	count           int
	loss            float64
}

func (w *minedWork) prepare(n, d int) *minedWork {
	w.n, w.d = n, d
	w.e, w.y = grow(w.e, n*d), grow(w.y, n)
	w.u, w.gram, w.gs, w.du = grow(w.u, n*d), grow(w.gram, n*n), grow(w.gs, n*n), grow(w.du, n*d)
	w.r, w.sq, w.g, w.neg = grow(w.r, n), grow(w.sq, n), grow(w.g, n*n), grow(w.neg, n)
	return w
}

func grow[T any](s []T, k int) []T {
	if cap(s) < k {
		return make([]T, k)
	}
	return s[:k]
}

// mine computes the cosine distances, mines the triplets, and sets w.loss,
// w.count and w.g.
func (w *minedWork) mine(e []float32, y []int32, n, d int, m Mining, margin float32) {
	w.valid = false
	copy(w.e, e[:n*d])
	copy(w.y, y[:n])
	w.mining, w.margin = m, margin
	u, r := w.u, w.r
	for i := range n {
		row := e[i*d : (i+1)*d]
		var s float64
		for _, v := range row {
			s += float64(v) * float64(v)
		}
		w.sq[i] = s
		r[i] = math.Sqrt(math.Max(s, normEps))
		for k, v := range row {
			u[i*d+k] = float32(float64(v) / r[i])
		}
	}
	// gram = U·Uᵀ; cosd(i,j) = 1 − gram[i,j], so comparisons of distances
	// are comparisons of cosines, reversed.
	blas.Float32().Sgemm(gblas.NoTrans, gblas.Trans, n, n, d, 1, u, d, u, d, 0, w.gram, n)
	g := w.g
	clear(g)
	mg := float64(margin)
	var total float64
	count := 0
	for a := range n {
		ca := w.gram[a*n : (a+1)*n]
		ga := g[a*n : (a+1)*n]
		neg := w.neg[:0]
		for j := range n {
			if y[j] != y[a] {
				neg = append(neg, int32(j))
			}
		}
		if len(neg) == 0 {
			continue
		}
		switch m {
		case BatchAll:
			// Every (p, q) with l = cos(a,q) − cos(a,p) + margin > 0.
			for p := range n {
				if p == a || y[p] != y[a] {
					continue
				}
				t := float64(ca[p]) - mg // l > 0 ⇔ cos(a,q) > t
				var sum float64
				k := 0
				for _, q := range neg {
					if c := float64(ca[q]); c > t {
						sum += c - t
						ga[q]++
						k++
					}
				}
				total += sum
				count += k
				ga[p] -= float64(k)
			}
		case BatchHard:
			p, q := -1, int(neg[0])
			for j := range n {
				if j != a && y[j] == y[a] && (p < 0 || ca[j] < ca[p]) {
					p = j
				}
			}
			for _, j := range neg {
				if ca[j] > ca[q] {
					q = int(j)
				}
			}
			if p < 0 {
				continue
			}
			count++
			if l := float64(ca[q]) - float64(ca[p]) + mg; l > 0 {
				total += l
				ga[p]--
				ga[q]++
			}
		case SemiHard:
			for p := range n {
				if p == a || y[p] != y[a] {
					continue
				}
				// The nearest negative farther than p (cosine below p's),
				// else the farthest negative.
				semi, far := -1, int(neg[0])
				for _, q := range neg {
					c := ca[q]
					if c < ca[far] {
						far = int(q)
					}
					if c < ca[p] && (semi < 0 || c > ca[semi]) {
						semi = int(q)
					}
				}
				if semi < 0 {
					semi = far
				}
				count++
				if l := float64(ca[semi]) - float64(ca[p]) + mg; l > 0 {
					total += l
					ga[p]--
					ga[semi]++
				}
			}
		default:
			panic(fmt.Sprintf("model: unknown mining %q", m))
		}
	}
	w.count, w.loss = count, 0
	if count > 0 {
		w.loss = total / float64(count)
	}
	w.valid = true
}

// backward writes scale·∂loss/∂e into de from the last mining:
// ∂loss/∂û_i = Σ_j (g_ij + g_ji) û_j / count, then through û = x/r,
// ∂x = (∂û − û(û·∂û))/r, without the projection where r was clamped.
func (w *minedWork) backward(scale float64, de []float32) {
	n, d := w.n, w.d
	if w.count == 0 {
		clear(de)
		return
	}
	f := scale / float64(w.count)
	for i := range n {
		for j := range n {
			w.gs[i*n+j] = float32(w.g[i*n+j] + w.g[j*n+i])
		}
	}
	blas.Float32().Sgemm(gblas.NoTrans, gblas.NoTrans, n, d, n, 1, w.gs, n, w.u, d, 0, w.du, d)
	for i := range n {
		ui, dui := w.u[i*d:(i+1)*d], w.du[i*d:(i+1)*d]
		var proj float64
		if w.sq[i] > normEps {
			for k, v := range ui {
				proj += float64(v) * float64(dui[k])
			}
		}
		dst := de[i*d : (i+1)*d]
		for k := range dst {
			dst[k] = float32(f * (float64(dui[k]) - float64(ui[k])*proj) / w.r[i])
		}
	}
}
