package metrics

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// KNNAccuracy classifies each query row by a k-nearest-neighbour vote over
// the reference rows, using cosine similarity, and returns the fraction of
// queries whose predicted label equals queryLabels.
//
// The vote is a plain majority among the k most similar references. A tie
// between labels is broken in favour of the tied label whose closest
// neighbour ranks first (so with a tie involving the nearest neighbour's
// label, that label wins). Equal similarities are ordered by reference index.
// Note that sklearn's KNeighborsClassifier breaks vote ties towards the
// smallest label instead, so results can differ on tied votes.
//
// Preconditions (panics otherwise): dim ≥ 1, k ≥ 1, len(ref) ==
// len(refLabels)*dim ≥ dim, len(query) == len(queryLabels)*dim. k larger than
// the number of references is clamped. Empty queries give 0.
//
// Rows are L2-normalised once; similarities are float32 gonum BLAS products
// (Sgemm) of blocks of query rows against all references, with blocks spread
// over GOMAXPROCS goroutines. Memory is a normalised copy of both inputs plus
// ~32 MiB of similarity buffer per goroutine. 10k queries × 60k references ×
// 128 dims take about 5 s on two cores.
func KNNAccuracy(ref []float32, refLabels []int, query []float32, queryLabels []int, dim, k int) float64 {
	mustShape(query, len(queryLabels), dim, "KNNAccuracy(query)")
	pred := knnPredict(ref, refLabels, query, dim, k)
	if len(pred) == 0 {
		return 0
	}
	correct := 0
	for i, p := range pred {
		if p == queryLabels[i] {
			correct++
		}
	}
	return float64(correct) / float64(len(pred))
}

// knnPredict returns the kNN predicted label of every query row.
func knnPredict(ref []float32, refLabels []int, query []float32, dim, k int) []int {
	mustShape(ref, len(refLabels), dim, "KNNAccuracy(ref)")
	if len(refLabels) == 0 {
		panic("metrics: KNNAccuracy: empty reference set")
	}
	if k < 1 {
		panic(fmt.Sprintf("metrics: KNNAccuracy: k=%d < 1", k))
	}
	if dim <= 0 || len(query)%dim != 0 {
		panic(fmt.Sprintf("metrics: KNNAccuracy: len(query)=%d not a multiple of dim=%d", len(query), dim))
	}
	nr, nq := len(refLabels), len(query)/dim
	k = min(k, nr)
	r := normalizeRows(ref, dim)
	q := normalizeRows(query, dim)
	pred := make([]int, nq)
	simBlocks(q, nq, r, nr, dim, func() func(start, rows int, sims []float32) {
		heap := make([]neighbour, 0, k)
		var votes []vote
		return func(start, rows int, sims []float32) {
			for i := 0; i < rows; i++ {
				heap = topK(sims[i*nr:(i+1)*nr], k, -1, heap[:0])
				votes = votes[:0]
				for _, nb := range heap { // sorted best first
					l := refLabels[nb.idx]
					found := false
					for v := range votes {
						if votes[v].label == l {
							votes[v].n++
							found = true
							break
						}
					}
					if !found {
						votes = append(votes, vote{label: l, n: 1})
					}
				}
				best := votes[0] // votes are in order of first appearance
				for _, v := range votes[1:] {
					if v.n > best.n {
						best = v
					}
				}
				pred[start+i] = best.label
			}
		}
	})
	return pred
}

type vote struct{ label, n int }

// PrecisionAt1 returns the fraction of items whose most cosine-similar other
// item (leave-one-out; equal similarities resolved by lowest index) has the
// same label. len(emb) must be len(labels)*dim (panics otherwise); fewer
// than two items give 0.
func PrecisionAt1(emb []float32, labels []int, dim int) float64 {
	mustShape(emb, len(labels), dim, "PrecisionAt1")
	n := len(labels)
	if n < 2 {
		return 0
	}
	x := normalizeRows(emb, dim)
	hit := make([]bool, n)
	simBlocks(x, n, x, n, dim, func() func(start, rows int, sims []float32) {
		heap := make([]neighbour, 0, 1)
		return func(start, rows int, sims []float32) {
			for i := 0; i < rows; i++ {
				heap = topK(sims[i*n:(i+1)*n], 1, start+i, heap[:0])
				hit[start+i] = labels[heap[0].idx] == labels[start+i]
			}
		}
	})
	c := 0
	for _, h := range hit {
		if h {
			c++
		}
	}
	return float64(c) / float64(n)
}

// MAPAtR returns MAP@R (Musgrave, Belongie & Lim, "A Metric Learning Reality
// Check", 2020) with cosine similarity and leave-one-out: for each item,
// R is the number of other items with the same label, and
// AP@R = (1/R) Σ_{i=1..R} P(i)·rel(i) over its R nearest other items, where
// P(i) is the precision among the first i. The result is the mean over
// items; items that are alone in their class (R = 0) are skipped, and 0 is
// returned if every item is. Equal similarities are ranked by lowest index.
// len(emb) must be len(labels)*dim (panics otherwise). Cost is O(n²·dim)
// (about 2 s for n = 10k, dim = 128, on two cores).
func MAPAtR(emb []float32, labels []int, dim int) float64 {
	mustShape(emb, len(labels), dim, "MAPAtR")
	n := len(labels)
	count := map[int]int{}
	for _, l := range labels {
		count[l]++
	}
	x := normalizeRows(emb, dim)
	ap := make([]float64, n)
	valid := make([]bool, n)
	simBlocks(x, n, x, n, dim, func() func(start, rows int, sims []float32) {
		buf := make([]neighbour, 0, n)
		return func(start, rows int, sims []float32) {
			for i := 0; i < rows; i++ {
				q := start + i
				R := count[labels[q]] - 1
				if R == 0 {
					continue
				}
				buf = buf[:0]
				for j, s := range sims[i*n : (i+1)*n] {
					if j != q {
						buf = append(buf, neighbour{s, int32(j)})
					}
				}
				selectTop(buf, R)
				top := buf[:R]
				slices.SortFunc(top, cmpNeighbour)
				rel, sum := 0, 0.0
				for r, nb := range top {
					if labels[nb.idx] == labels[q] {
						rel++
						sum += float64(rel) / float64(r+1)
					}
				}
				ap[q] = sum / float64(R)
				valid[q] = true
			}
		}
	})
	total, m := 0.0, 0
	for i, v := range valid {
		if v {
			total += ap[i]
			m++
		}
	}
	if m == 0 {
		return 0
	}
	return total / float64(m)
}

// normalizeRows returns a copy of x (rows of length dim) with unit-norm rows;
// zero rows stay zero.
func normalizeRows(x []float32, dim int) []float32 {
	out := make([]float32, len(x))
	for off := 0; off+dim <= len(x); off += dim {
		var ss float64
		for _, v := range x[off : off+dim] {
			ss += float64(v) * float64(v)
		}
		if ss == 0 {
			continue
		}
		inv := 1 / math.Sqrt(ss)
		for j, v := range x[off : off+dim] {
			out[off+j] = float32(float64(v) * inv)
		}
	}
	return out
}

// simBlockBytes bounds the similarity buffer of one goroutine.
const simBlockBytes = 32 << 20

// simBlocks computes the similarity matrix q·rᵀ (nq×nr) in blocks of query
// rows and hands each block to a consumer. newConsumer is called once per
// worker goroutine (so consumers can own scratch space); a consumer receives
// the first query row of the block, the number of rows and the rows×nr
// row-major similarities, and must only write per-row results.
func simBlocks(q []float32, nq int, r []float32, nr, dim int, newConsumer func() func(start, rows int, sims []float32)) {
	if nq == 0 || nr == 0 {
		return
	}
	block := max(8, min(512, simBlockBytes/4/nr))
	block = min(block, nq)
	nBlocks := (nq + block - 1) / block
	workers := min(runtime.GOMAXPROCS(0), nBlocks)
	rm := blas32.General{Rows: nr, Cols: dim, Stride: dim, Data: r}
	next := make(chan int, nBlocks)
	for b := 0; b < nBlocks; b++ {
		next <- b * block
	}
	close(next)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			consume := newConsumer()
			buf := make([]float32, block*nr)
			for start := range next {
				rows := min(block, nq-start)
				qm := blas32.General{Rows: rows, Cols: dim, Stride: dim, Data: q[start*dim : (start+rows)*dim]}
				cm := blas32.General{Rows: rows, Cols: nr, Stride: nr, Data: buf[:rows*nr]}
				blas32.Gemm(blas.NoTrans, blas.Trans, 1, qm, rm, 0, cm)
				consume(start, rows, cm.Data)
			}
		}()
	}
	wg.Wait()
}

// neighbour is a candidate with its similarity and index.
type neighbour struct {
	sim float32
	idx int32
}

// better orders neighbours: higher similarity first, then lower index.
func better(a, b neighbour) bool {
	return a.sim > b.sim || (a.sim == b.sim && a.idx < b.idx)
}

func cmpNeighbour(a, b neighbour) int {
	switch {
	case better(a, b):
		return -1
	case better(b, a):
		return 1
	}
	return 0
}

// topK returns the k best entries of sims (skipping index skip), sorted best
// first, using h (len 0, cap ≥ k) as storage for a min-heap.
func topK(sims []float32, k, skip int, h []neighbour) []neighbour {
	for j, s := range sims {
		if j == skip {
			continue
		}
		c := neighbour{s, int32(j)}
		if len(h) < k {
			h = append(h, c)
			// sift up: root is the worst.
			for i := len(h) - 1; i > 0; {
				p := (i - 1) / 2
				if !better(h[p], h[i]) {
					break
				}
				h[p], h[i] = h[i], h[p]
				i = p
			}
			continue
		}
		if s < h[0].sim || !better(c, h[0]) {
			continue
		}
		h[0] = c
		for i := 0; ; {
			l := 2*i + 1
			if l >= len(h) {
				break
			}
			w := l
			if r := l + 1; r < len(h) && better(h[l], h[r]) {
				w = r
			}
			if !better(h[i], h[w]) {
				break
			}
			h[i], h[w] = h[w], h[i]
			i = w
		}
	}
	slices.SortFunc(h, cmpNeighbour)
	return h
}

// selectTop partially orders a so that a[:r] holds its r best entries (in
// no particular order). Keys are distinct because indices are.
func selectTop(a []neighbour, r int) {
	lo, hi := 0, len(a)-1
	for lo < hi {
		// Median of three as pivot.
		mid := lo + (hi-lo)/2
		if better(a[mid], a[lo]) {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if better(a[hi], a[lo]) {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if better(a[hi], a[mid]) {
			a[hi], a[mid] = a[mid], a[hi]
		}
		p := a[mid]
		i, j := lo, hi
		for i <= j {
			for better(a[i], p) {
				i++
			}
			for better(p, a[j]) {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		// Now a[lo..j] are ≥ p (better or equal), a[i..hi] are ≤ p.
		switch {
		case r-1 <= j:
			hi = j
		case r-1 >= i:
			lo = i
		default:
			return
		}
	}
}
