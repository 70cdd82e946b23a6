package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	gblas "gonum.org/v1/gonum/blas"

	"github.com/siamese-pipeline/siamese/blas"
)

// The retrieval metrics compare every query with every reference by cosine
// similarity: rows are L2-normalised once, then the similarity matrix is
// computed tile by tile as products q·rᵀ with the BLAS that package blas
// selects (OpenBLAS or our packed Sgemm), each tile consumed, in parallel over
// its rows, before the next is computed. No more than one tile (a few MiB)
// of similarities exists at a time, rows are never sorted whole, and ctx is
// checked between tiles (each takes milliseconds). Where the CPU multiplies
// bfloat16 on AMX tiles, kNN screens in bfloat16 first and recomputes only
// candidates in float32, with the same results (screen.go).

// tileBytes bounds one tile of similarities; tileRows and tileCols bound
// the tiles of the column-blocked kNN pass (512 × 8192, 16 MiB). Large
// tiles mean few products (about 140 for 10,000 queries against 49,288
// references): each costs a wake-up of the BLAS threads, which is dear on a
// busy machine, and fewer row blocks repack the references less often.
// Variables so that tests can make tiles tiny.
var (
	tileBytes = 16 << 20
	tileRows  = 512
	tileCols  = 8192
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
// the number of references is clamped. Empty queries give 0. KNNAccuracies
// scores several k in one pass, with a context and errors instead of panics.
func KNNAccuracy(ref []float32, refLabels []int, query []float32, queryLabels []int, dim, k int) float64 {
	acc, err := KNNAccuracies(context.Background(), ref, refLabels, query, queryLabels, dim, k)
	if err != nil {
		panic(err)
	}
	return acc[0]
}

// KNNAccuracies is KNNAccuracy for each of ks, from one pass over the
// similarities (the cost of the largest k alone): for each query it keeps the
// max(ks) best references in a small heap, and votes with the first k of
// them. It returns ctx's error if ctx ends first, and an error for the
// inputs KNNAccuracy panics on.
func KNNAccuracies(ctx context.Context, ref []float32, refLabels []int, query []float32, queryLabels []int, dim int, ks ...int) ([]float64, error) {
	if dim <= 0 || len(query) != len(queryLabels)*dim {
		return nil, fmt.Errorf("metrics: KNNAccuracy: len(query)=%d, want %d*%d", len(query), len(queryLabels), dim)
	}
	pred, err := knnPredictAll(ctx, ref, refLabels, query, dim, ks)
	if err != nil {
		return nil, err
	}
	acc := make([]float64, len(ks))
	if len(queryLabels) == 0 {
		return acc, nil
	}
	for ki := range ks {
		correct := 0
		for i, p := range pred[ki] {
			if p == queryLabels[i] {
				correct++
			}
		}
		acc[ki] = float64(correct) / float64(len(queryLabels))
	}
	return acc, nil
}

// knnPredict returns the kNN predicted label of every query row; it panics
// where KNNAccuracy does.
func knnPredict(ref []float32, refLabels []int, query []float32, dim, k int) []int {
	pred, err := knnPredictAll(context.Background(), ref, refLabels, query, dim, []int{k})
	if err != nil {
		panic(err)
	}
	return pred[0]
}

// knnPredictAll returns, for each k of ks, the predicted label of every query.
func knnPredictAll(ctx context.Context, ref []float32, refLabels []int, query []float32, dim int, ks []int) ([][]int, error) {
	if dim <= 0 || len(ref) != len(refLabels)*dim {
		return nil, fmt.Errorf("metrics: KNNAccuracy: len(ref)=%d, want %d*%d", len(ref), len(refLabels), dim)
	}
	if len(refLabels) == 0 {
		return nil, errors.New("metrics: KNNAccuracy: empty reference set")
	}
	if len(query)%dim != 0 {
		return nil, fmt.Errorf("metrics: KNNAccuracy: len(query)=%d not a multiple of dim=%d", len(query), dim)
	}
	if len(ks) == 0 {
		return nil, errors.New("metrics: KNNAccuracy: no k")
	}
	nr, nq := len(refLabels), len(query)/dim
	kmax := 0
	for _, k := range ks {
		if k < 1 {
			return nil, fmt.Errorf("metrics: KNNAccuracy: k=%d < 1", k)
		}
		kmax = max(kmax, min(k, nr))
	}
	r := normalizeRows(ref, dim)
	q := normalizeRows(query, dim)
	heaps, err := nearest(ctx, q, nq, r, nr, dim, kmax)
	if err != nil {
		return nil, err
	}
	pred := make([][]int, len(ks))
	for ki := range pred {
		pred[ki] = make([]int, nq)
	}
	var votes []vote
	for i := range nq {
		h := heaps[i*kmax : (i+1)*kmax]
		slices.SortFunc(h, cmpNeighbour)
		for ki, k := range ks {
			votes = votes[:0]
			for _, nb := range h[:min(k, kmax)] { // sorted best first
				if nb.idx == math.MaxInt32 {
					break // a sentinel: NaN similarities left it there
				}
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
			p := -1
			if len(votes) > 0 {
				best := votes[0] // votes are in order of first appearance
				for _, v := range votes[1:] {
					if v.n > best.n {
						best = v
					}
				}
				p = best.label
			}
			pred[ki][i] = p
		}
	}
	return pred, nil
}

type vote struct{ label, n int }

// nearestWith returns the kmax references most similar to each of the nq
// query rows by the similarities impl's Sgemm computes: nq heaps of kmax
// neighbours (see pushAll), in no particular order, filled up with
// sentinels (similarity −∞, index MaxInt32) where fewer references have a
// similarity above −∞ (NaN ones never enter).
func nearestWith(ctx context.Context, impl gblas.Float32, q []float32, nq int, r []float32, nr, dim, kmax int) ([]neighbour, error) {
	heaps := sentinels(nq * kmax)
	err := simTiles(ctx, impl, q, nq, r, nr, dim, tileCols, func(i0, rows, j0, cols int, sims []float32) {
		for i := range rows {
			h := heaps[(i0+i)*kmax : (i0+i+1)*kmax]
			pushAll(h, sims[i*cols:(i+1)*cols], j0)
		}
	})
	return heaps, err
}

// sentinel fills heaps: worse than any neighbour.
var sentinel = neighbour{float32(math.Inf(-1)), math.MaxInt32}

// sentinels returns n sentinels: empty heaps.
func sentinels(n int) []neighbour {
	h := make([]neighbour, n)
	for i := range h {
		h[i] = sentinel
	}
	return h
}

// pushAll offers sims (the similarities to references j0, j0+1, ...) to the
// full min-heap h, whose root is its worst entry. References come in
// increasing index order, so a similarity equal to the root's loses the tie:
// only strictly greater ones enter (see scanAbove).
func pushAll(h []neighbour, sims []float32, j0 int) {
	scanAbove(sims, j0, h[0].sim, func(s float32, j int) (float32, bool) { return push(h, neighbour{s, int32(j)}), true })
}

// push replaces the root of the min-heap h (its worst entry) by nb and
// returns the new root's similarity.
func push(h []neighbour, nb neighbour) float32 {
	h[0] = nb
	siftDown(h)
	return h[0].sim
}

// scanAbove calls take(s, j0+j) for each similarity s = sims[j] greater
// than thr, in order; take returns the threshold for the rest, and false to
// stop. skipNotAbove (eight similarities a compare) jumps over the runs
// that cannot pass; the loop checks the rest one by one, its common case
// one comparison.
func scanAbove(sims []float32, j0 int, thr float32, take func(s float32, j int) (float32, bool)) {
	for j := 0; j < len(sims); j++ {
		if k := skipNotAbove(sims[j:], thr); k > 0 {
			if j += k; j >= len(sims) {
				return
			}
		}
		s := sims[j]
		if !(s > thr) {
			continue
		}
		var more bool
		if thr, more = take(s, j0+j); !more {
			return
		}
	}
}

// siftDown restores the min-heap order (worst at the root) after h[0] changed.
func siftDown(h []neighbour) {
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		w := l
		if r := l + 1; r < len(h) && better(h[l], h[r]) {
			w = r
		}
		if !better(h[i], h[w]) {
			return
		}
		h[i], h[w] = h[w], h[i]
		i = w
	}
}

// PrecisionAt1 returns the fraction of items whose most cosine-similar other
// item (leave-one-out; equal similarities resolved by lowest index) has the
// same label. len(emb) must be len(labels)*dim (panics otherwise); fewer
// than two items give 0.
func PrecisionAt1(emb []float32, labels []int, dim int) float64 {
	p1, _, err := SelfRetrieval(context.Background(), emb, labels, dim)
	if err != nil {
		panic(err)
	}
	return p1
}

// MAPAtR returns MAP@R (Musgrave, Belongie & Lim, "A Metric Learning Reality
// Check", 2020) with cosine similarity and leave-one-out: for each item,
// R is the number of other items with the same label, and
// AP@R = (1/R) Σ_{i=1..R} P(i)·rel(i) over its R nearest other items, where
// P(i) is the precision among the first i. The result is the mean over
// items; items that are alone in their class (R = 0) are skipped, and 0 is
// returned if every item is. Equal similarities are ranked by lowest index.
// len(emb) must be len(labels)*dim (panics otherwise).
func MAPAtR(emb []float32, labels []int, dim int) float64 {
	_, m, err := SelfRetrieval(context.Background(), emb, labels, dim)
	if err != nil {
		panic(err)
	}
	return m
}

// SelfRetrieval returns PrecisionAt1 and MAPAtR of emb from one pass over
// its similarities with itself: per item, the R best others are selected
// (not sorted whole) and only those are sorted. Cost is O(n²·dim) in the
// products plus O(n²) in the selection; it returns ctx's error if ctx ends
// first and an error where PrecisionAt1 panics.
func SelfRetrieval(ctx context.Context, emb []float32, labels []int, dim int) (p1, mapR float64, err error) {
	if dim <= 0 || len(emb) != len(labels)*dim {
		return 0, 0, fmt.Errorf("metrics: retrieval: len(emb)=%d, want %d*%d", len(emb), len(labels), dim)
	}
	n := len(labels)
	if n < 2 {
		return 0, 0, nil
	}
	count := map[int]int{}
	for _, l := range labels {
		count[l]++
	}
	x := normalizeRows(emb, dim)
	ap := make([]float64, n)
	valid := make([]bool, n)
	hit := make([]bool, n)
	var scratch sync.Pool
	err = simTiles(ctx, blas.Float32(), x, n, x, n, dim, n, func(i0, rows, _, _ int, sims []float32) {
		sc, _ := scratch.Get().(*rankScratch)
		if sc == nil {
			sc = new(rankScratch)
		}
		defer scratch.Put(sc)
		for i := range rows {
			q := i0 + i
			lq := labels[q]
			R := count[lq] - 1
			top := sc.best(sims[i*n:(i+1)*n], q, max(R, 1))
			hit[q] = labels[keyIndex(top[0])] == lq
			if R == 0 {
				continue
			}
			rel, sum := 0, 0.0
			for r, k := range top {
				if labels[keyIndex(k)] == lq {
					rel++
					sum += float64(rel) / float64(r+1)
				}
			}
			ap[q] = sum / float64(R)
			valid[q] = true
		}
	})
	if err != nil {
		return 0, 0, err
	}
	hits, total, m := 0, 0.0, 0
	for i := range n {
		if hit[i] {
			hits++
		}
		if valid[i] {
			total += ap[i]
			m++
		}
	}
	p1 = float64(hits) / float64(n)
	if m > 0 {
		mapR = total / float64(m)
	}
	return p1, mapR, nil
}

// rankBuckets is the number of equal-width buckets of [−1, 1] that
// rankScratch.best counts similarities in.
const rankBuckets = 4096

// rankScratch is one goroutine's scratch space for best.
type rankScratch struct {
	hist     [rankBuckets]int32
	keys, tm []uint64
	idx      []int32
	buckets  []uint16 // each similarity's bucket, computed once per row
}

// bucket is the histogram bucket of similarity s (clamped; NaN lands in
// one of the end buckets).
func bucket(s float32) int { return bucketOf(s, rankBuckets) }

// bucketOf is s's bucket among n equal-width buckets of [−1, 1], clamped.
func bucketOf(s float32, n int) int {
	b := int((s + 1) * float32(n/2))
	return min(max(b, 0), n-1)
}

// best returns the r best similarities of sims but the one at skip, best
// first (equal ones by lower index), as rankKeys; 1 ≤ r < len(sims). It
// keeps the similarities at or above a threshold that a sample of them
// puts a little below the r-th best (r and a few more), and sorts only
// those, by radix; where the sample misleads (or is too small to tell) it
// counts them all in buckets instead (byBuckets).
func (sc *rankScratch) best(sims []float32, skip, r int) []uint64 {
	if keys, ok := sc.bySample(sims, skip, r); ok {
		return keys
	}
	return sc.byBuckets(sims, skip, r)
}

// sampleStride is the distance between the similarities bySample samples,
// and sampleBuckets how many buckets of [−1, 1] it counts them in.
const (
	sampleStride  = 8
	sampleBuckets = 512
)

// bySample is best from a threshold: the lower edge of the bucket that
// holds the ρ-th best of every sampleStride-th similarity, ρ about three
// standard deviations above r/sampleStride, so that r or more similarities
// are at or above it. ok is false when fewer are, or when the threshold
// lies in byBuckets' lowest bucket (where it ranks NaNs): otherwise both
// keep every similarity better than one they keep, and so return the same
// keys.
func (sc *rankScratch) bySample(sims []float32, skip, r int) (keys []uint64, ok bool) {
	rho := r/sampleStride + 3*int(math.Sqrt(float64(r/sampleStride))) + 4
	if rho >= len(sims)/sampleStride/2 {
		return nil, false
	}
	var hist [sampleBuckets]int32
	for j := 0; j < len(sims); j += sampleStride {
		hist[bucketOf(sims[j], sampleBuckets)]++
	}
	b, have := sampleBuckets-1, 0
	for ; b > 0; b-- {
		if have += int(hist[b]); have >= rho {
			break
		}
	}
	tau := float32(b)/(sampleBuckets/2) - 1
	if bucket(tau) < 1 {
		return nil, false
	}
	if cap(sc.idx) < len(sims) {
		sc.idx = make([]int32, len(sims))
	}
	idx := sc.idx[:atLeast(sims, tau, sc.idx[:len(sims)])]
	keys = sc.keys[:0]
	for _, j := range idx {
		if int(j) != skip {
			keys = append(keys, rankKey(sims[j], int(j)))
		}
	}
	sc.keys = keys
	if len(keys) < r {
		return nil, false
	}
	sc.tm = radixSortHigh(keys, sc.tm)
	return keys[:r], true
}

// byBuckets is best by counting: it counts the similarities in buckets,
// keeps those in the buckets that hold the r best (r and a few more), and
// sorts only those, by radix.
func (sc *rankScratch) byBuckets(sims []float32, skip, r int) []uint64 {
	clear(sc.hist[:])
	if cap(sc.buckets) < len(sims) {
		sc.buckets = make([]uint16, len(sims))
	}
	bs := sc.buckets[:len(sims)]
	for j, s := range sims {
		b := bucket(s)
		bs[j] = uint16(b)
		sc.hist[b]++
	}
	if skip >= 0 && skip < len(sims) {
		sc.hist[bs[skip]]--
	}
	lowest, have := rankBuckets-1, 0
	for ; lowest > 0; lowest-- {
		if have += int(sc.hist[lowest]); have >= r {
			break
		}
	}
	keys := sc.keys[:0]
	low := uint16(lowest)
	for j, b := range bs {
		if b >= low && j != skip {
			keys = append(keys, rankKey(sims[j], j))
		}
	}
	sc.keys = keys
	sc.tm = radixSortHigh(keys, sc.tm)
	return keys[:r]
}

// rankKey packs a similarity and an index into one integer that orders as
// best first: a smaller key has a higher similarity, or the same one and a
// lower index. (−0 counts as +0.)
func rankKey(s float32, j int) uint64 {
	if s == 0 {
		s = 0
	}
	b := math.Float32bits(s)
	if b>>31 != 0 {
		b = ^b
	} else {
		b |= 1 << 31
	}
	return uint64(^b)<<32 | uint64(uint32(j))
}

// keyIndex is the index packed in a rankKey.
func keyIndex(k uint64) int { return int(uint32(k)) }

// radixSortHigh sorts keys in place by their high 32 bits, stably (so keys
// given in increasing index order end up fully sorted), with tmp as scratch;
// it returns tmp, grown if needed. Byte positions where all keys agree are
// skipped.
func radixSortHigh(keys, tmp []uint64) []uint64 {
	if len(keys) == 0 {
		return tmp
	}
	if cap(tmp) < len(keys) {
		tmp = make([]uint64, len(keys))
	}
	tmp = tmp[:len(keys)]
	// One pass counts all four digits.
	var count [4][256]uint32
	for _, k := range keys {
		count[0][byte(k>>32)]++
		count[1][byte(k>>40)]++
		count[2][byte(k>>48)]++
		count[3][byte(k>>56)]++
	}
	src, dst := keys, tmp
	for d := range count {
		shift, c := 32+8*d, &count[d]
		if int(c[byte(src[0]>>shift)]) == len(src) {
			continue
		}
		var pos uint32
		for b, n := range c {
			c[b] = pos
			pos += n
		}
		for _, k := range src {
			b := byte(k >> shift)
			dst[c[b]] = k
			c[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
	return tmp
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

// simTiles computes the similarities q·rᵀ (nq×nr) in tiles of at most
// maxCols columns and as many rows as fit in tileBytes (at most tileRows
// when the tile is narrower than a row), each with one product of impl
// (the selected BLAS, or its bfloat16 products), and hands each tile to
// consume, split by rows over GOMAXPROCS goroutines: consume(i0, rows, j0,
// cols, sims) gets query rows [i0, i0+rows) against references [j0,
// j0+cols) as rows×cols row-major similarities. Tiles are visited row
// block by row block, columns in increasing order, and two calls never
// share a query row, so consumers may keep per-row state without locks.
// ctx is checked before each tile.
func simTiles(ctx context.Context, impl gblas.Float32, q []float32, nq int, r []float32, nr, dim, maxCols int,
	consume func(i0, rows, j0, cols int, sims []float32)) error {
	if nq == 0 || nr == 0 {
		return ctx.Err()
	}
	cb := min(max(maxCols, 1), nr)
	rb := max(1, min(nq, tileBytes/4/cb))
	if cb < nr {
		rb = min(rb, tileRows)
	}
	workers := runtime.GOMAXPROCS(0)
	buf := make([]float32, rb*cb)
	var wg sync.WaitGroup
	for i0 := 0; i0 < nq; i0 += rb {
		rows := min(rb, nq-i0)
		for j0 := 0; j0 < nr; j0 += cb {
			if err := ctx.Err(); err != nil {
				return err
			}
			cols := min(cb, nr-j0)
			sims := buf[:rows*cols]
			impl.Sgemm(gblas.NoTrans, gblas.Trans, rows, cols, dim, 1, q[i0*dim:(i0+rows)*dim], dim,
				r[j0*dim:(j0+cols)*dim], dim, 0, sims, cols)
			parts := min(workers, rows)
			for p := range parts {
				a, b := rows*p/parts, rows*(p+1)/parts
				part := func() { consume(i0+a, b-a, j0, cols, sims[a*cols:b*cols]) }
				if p == parts-1 {
					part() // the caller takes the last part
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					part()
				}()
			}
			wg.Wait()
		}
	}
	return nil
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
