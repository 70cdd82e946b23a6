package metrics

import (
	"context"
	"math"
	"runtime"

	gblas "gonum.org/v1/gonum/blas"

	"github.com/siamese-pipeline/siamese/blas"
	"github.com/siamese-pipeline/siamese/internal/par"
)

// Screening. The kNN pass compares every query with every reference (126
// GFLOP for 10,000 queries against 49,288 references in 128 dimensions).
// Where bfloat16 products run on AMX tiles, several times faster than the
// float32 kernel, it first compares them all in bfloat16, keeping for each
// query its kmax best and every reference that bfloat16's error leaves a
// chance of being among the kmax best by float32 similarity (the
// candidates), and then recomputes in float32 only the candidates. Their
// float32 similarities come from the same Sgemm as the full pass, row by
// row: where that Sgemm's sums depend on k alone, not on a product's shape
// (this package's blas, see sumsByK), the neighbours, and so the
// accuracies, are those of the float32 pass, bit for bit.
//
// The error bound. Let q̃, r̃ be rows rounded to bfloat16 (as the CPU
// rounds them, see blas.RoundBF16), e_q = ‖q̃−q‖ and e_r = ‖r̃−r‖ (each at
// most 2⁻⁸ of the row's norm, about half that typically). Then
// q̃·r̃ − q·r = (q̃−q)·r̃ + q·(r̃−r), so for rows of unit norm
// |q̃·r̃ − q·r| ≤ e_q·(1+e_r) + e_r (Cauchy–Schwarz), and each float32 sum of
// dim products (the bfloat16 one A, the float32 one S) adds less than
// dim·2⁻²⁴·(1+e)². So for a query, with E the largest e_r of the
// references, |A − S| < δ = e_q·(1+E) + E + dim·2⁻²¹ (the last term with
// room for the norms' own rounding, and for the float32 roundings of 2δ and
// of t−2δ below). Let t be the query's kmax-th best A:
// kmax references have A ≥ t, so S > t−δ; so each of the kmax best by S
// has S > t−δ and A > t−2δ: the candidates are the references with
// A > t−2δ. The pass keeps up to screenKeep of them a query, dropping
// those that fall below as t rises; a query whose list is still more than
// three quarters full after that (1.5 % of them on Fashion-MNIST's
// embeddings; all of them when the embedding has collapsed, which costs one
// float32 pass more) is recomputed whole in float32.

// screenKeep is how many candidates per query the bfloat16 pass may keep.
const screenKeep = 128

// screening reports whether kNN screens in bfloat16: where those products
// run on AMX (elsewhere they are emulated, slower than float32) and the
// float32 Sgemm's sums depend on k alone. Tests switch it on to check the
// screened results on any CPU.
var screening = func() bool { return blas.BF16Name() == "amx" && sumsByK() }

// sumsByK reports whether the selected Sgemm sums each element of C in an
// order fixed by k alone (our packed kernels; not OpenBLAS, nor gonum's
// own, whose blocking may depend on the shape), so that a row recomputed
// alone equals the same row in a larger product.
func sumsByK() bool { return blas.PackedSgemm() && blas.Name() != "openblas" }

// screenBounds returns, for each query row, 2δ (see above): how far below
// its kmax-th best bfloat16 similarity a candidate may lie.
func screenBounds(q []float32, nq int, r []float32, nr, dim int) []float32 {
	eq, er := roundingErrors(q, nq, dim), roundingErrors(r, nr, dim)
	var e float64
	for _, v := range er {
		if v > e { // NaN rows (whose similarities are all NaN) left out
			e = v
		}
	}
	slack := float64(dim) / (1 << 21)
	out := make([]float32, nq)
	for i, v := range eq {
		out[i] = float32(2 * (v*(1+e) + e + slack))
	}
	return out
}

// roundingErrors returns ‖bf16(x) − x‖ for each of the n rows of x.
func roundingErrors(x []float32, n, dim int) []float64 {
	out := make([]float64, n)
	workers := min(runtime.GOMAXPROCS(0), max(n/1024, 1))
	par.Chunks(workers, workers-1, func(w int) {
		for i := n * w / workers; i < n*(w+1)/workers; i++ {
			var ss float64
			for _, v := range x[i*dim : (i+1)*dim] {
				d := float64(blas.RoundBF16(v)) - float64(v)
				ss += d * d
			}
			out[i] = math.Sqrt(ss)
		}
	})
	return out
}

// nearest returns the kmax references most similar to each query row, as
// nearestWith does with the selected BLAS (the same neighbours, though not
// in the same order), by screening in bfloat16 where that is faster.
func nearest(ctx context.Context, q []float32, nq int, r []float32, nr, dim, kmax int) ([]neighbour, error) {
	if nr <= kmax || 2*kmax > screenKeep || !screening() {
		return nearestWith(ctx, blas.Float32(), q, nq, r, nr, dim, kmax)
	}
	h, _, err := screen(ctx, q, nq, r, nr, dim, kmax, screenKeep)
	return h, err
}

// screen is nearest by screening, keeping at most keep candidates per
// query (keep > kmax); it also returns how many queries were recomputed
// whole. Rows of q and r must have unit norm (as normalizeRows makes
// them), or be zero or NaN.
func screen(ctx context.Context, q []float32, nq int, r []float32, nr, dim, kmax, keep int) ([]neighbour, int, error) {
	bounds := screenBounds(q, nq, r, nr, dim)
	// The bfloat16 pass: each query's kmax best in a heap, as pushAll
	// keeps them, and its candidates: every reference above the heap's
	// worst less 2δ when it came (the worst only rises), n[i] of them, −1
	// once too many.
	heaps := sentinels(nq * kmax)
	cands := make([]neighbour, nq*keep)
	n := make([]int, nq)
	err := simTiles(ctx, blas.BF16(), q, nq, r, nr, dim, tileCols, func(i0, rows, j0, cols int, sims []float32) {
		for i := range rows {
			qi := i0 + i
			if n[qi] >= 0 {
				n[qi] = screenRow(heaps[qi*kmax:(qi+1)*kmax], cands[qi*keep:(qi+1)*keep], n[qi], sims[i*cols:(i+1)*cols], j0, bounds[qi])
			}
		}
	})
	if err != nil {
		return nil, 0, err
	}
	// The candidates' float32 similarities, query by query, a share of
	// the queries a goroutine.
	out := sentinels(nq * kmax)
	workers := min(runtime.GOMAXPROCS(0), nq)
	errs := make([]error, workers)
	par.Chunks(workers, workers-1, func(w int) {
		f32 := blas.Float32()
		rows := make([]float32, keep*dim)
		sims := make([]float32, keep)
		for i := nq * w / workers; i < nq*(w+1)/workers; i++ {
			if i%256 == 0 {
				if errs[w] = ctx.Err(); errs[w] != nil {
					return
				}
			}
			if n[i] < 0 {
				continue
			}
			// The candidates still above the kmax-th best less 2δ.
			c := keepAbove(cands[i*keep:i*keep+n[i]], heaps[i*kmax].sim-bounds[i])
			m := len(c)
			for j, nb := range c {
				copy(rows[j*dim:], r[int(nb.idx)*dim:int(nb.idx+1)*dim])
			}
			if m > 0 {
				f32.Sgemm(gblas.NoTrans, gblas.Trans, 1, m, dim, 1, q[i*dim:(i+1)*dim], dim, rows[:m*dim], dim, 0, sims[:m], m)
			}
			// Keep the kmax best by float32 similarity, the lower index
			// first among equal ones, as pushAll would have; NaNs never
			// enter.
			res := out[i*kmax : (i+1)*kmax]
			for j, nb := range c {
				if s := sims[j]; better(neighbour{s, nb.idx}, res[0]) {
					push(res, neighbour{s, nb.idx})
				}
			}
		}
	})
	var redo []int
	for w := range workers {
		if errs[w] != nil {
			return nil, 0, errs[w]
		}
	}
	for i, c := range n {
		if c < 0 {
			redo = append(redo, i)
		}
	}
	if len(redo) == 0 {
		return out, 0, nil
	}
	qs := make([]float32, len(redo)*dim)
	for j, i := range redo {
		copy(qs[j*dim:], q[i*dim:(i+1)*dim])
	}
	hs, err := nearestWith(ctx, blas.Float32(), qs, len(redo), r, nr, dim, kmax)
	if err != nil {
		return nil, 0, err
	}
	for j, i := range redo {
		copy(out[i*kmax:(i+1)*kmax], hs[j*kmax:(j+1)*kmax])
	}
	return out, len(redo), nil
}

// screenRow offers sims (bfloat16 similarities to references j0, j0+1,
// ...) to one query's heap h, as pushAll does, and appends to its n
// candidates c every one above the heap's worst less bound at the time.
// When c is full it drops those no longer above; it returns the new count,
// or −1 (recompute the query whole) when c is still more than three
// quarters full after that.
func screenRow(h, c []neighbour, n int, sims []float32, j0 int, bound float32) int {
	thr := h[0].sim
	scanAbove(sims, j0, thr-bound, func(s float32, j int) (float32, bool) {
		low := thr - bound
		if n == len(c) {
			if n = len(keepAbove(c, low)); 4*n > 3*len(c) {
				n = -1
				return low, false
			}
		}
		c[n] = neighbour{s, int32(j)}
		n++
		if s > thr {
			thr = push(h, neighbour{s, int32(j)})
		}
		return thr - bound, true
	})
	return n
}

// keepAbove moves the neighbours of c with a similarity above low to its
// front, in order, and returns them.
func keepAbove(c []neighbour, low float32) []neighbour {
	m := 0
	for _, nb := range c {
		if nb.sim > low {
			c[m] = nb
			m++
		}
	}
	return c[:m]
}
