package metrics

import (
	"context"
	"runtime"
	"sync"

	gblas "gonum.org/v1/gonum/blas"

	"github.com/siamese-pipeline/siamese/blas"
)

// Screening. The kNN pass compares every query with every reference (126
// GFLOP for 10,000 queries against 49,288 references in 128 dimensions).
// Where bfloat16 products run on AMX tiles, several times faster than the
// float32 kernel, it first compares them all in bfloat16, keeps each
// query's screenKeep best references, and then recomputes in float32 only
// the candidates that bfloat16's error leaves a chance of being among the
// kmax best. The float32 similarities of the candidates come from the same
// Sgemm as the full pass, row by row: with this package's blas (whose sums
// depend on k alone, not on a product's shape) the neighbours, and so the
// accuracies, are those of the float32 pass, bit for bit.
//
// Why the candidates suffice: rounding an operand to bfloat16 changes each
// element by at most 2⁻⁹ of itself, so for unit rows q, r the bfloat16 dot
// product A differs from q·r by at most (2⁻⁸+2⁻¹⁸)·Σ|qᵢrᵢ| ≤ 2⁻⁸+2⁻¹⁸
// (Cauchy–Schwarz), and either float32 sum of dim products adds at most
// about dim·2⁻²⁴ (see screenBound). Let t be the kmax-th best A of a
// query: kmax references have A ≥ t, so their float32 similarity S ≥ t−δ,
// so every one of the kmax best by S has S ≥ t−δ and A ≥ t−2δ. A query
// whose screenKeep kept references all have A ≥ t−2δ may have more such
// candidates than were kept: it is recomputed whole in float32 (a few per
// cent of the queries on Fashion-MNIST's embeddings; all of them when
// the embedding has collapsed, which costs one float32 pass more).

// screenKeep is how many candidates per query the bfloat16 pass may keep
// (more and the query is recomputed whole).
const screenKeep = 128

// screening reports whether kNN screens in bfloat16: where those products
// run on AMX (elsewhere they are emulated, slower than float32). Tests
// switch it on to check the screened results on any CPU.
var screening = func() bool { return blas.BF16Name() == "amx" }

// screenBound bounds |bfloat16 similarity − float32 similarity| for rows of
// unit norm (as normalizeRows makes them, to within float32 rounding),
// strictly: 2⁻⁸ for the rounded operands, with room for the norms'
// rounding and for both float32 sums of dim products.
func screenBound(dim int) float32 {
	return 1.0/(1<<8) + 1.0/(1<<14) + float32(dim)/(1<<22)
}

// nearest returns the kmax references most similar to each query row, as
// nearestWith does with the selected BLAS (same neighbours, same order), by
// screening in bfloat16 where that is faster.
func nearest(ctx context.Context, q []float32, nq int, r []float32, nr, dim, kmax int) ([]neighbour, error) {
	if nr <= kmax || 2*kmax > screenKeep || !screening() {
		return nearestWith(ctx, blas.Float32(), q, nq, r, nr, dim, kmax)
	}
	h, _, err := screen(ctx, q, nq, r, nr, dim, kmax, screenKeep)
	return h, err
}

// screen is nearest by screening, keeping at most keep candidates per
// query (keep ≥ 2·kmax); it also returns how many queries were recomputed
// whole.
func screen(ctx context.Context, q []float32, nq int, r []float32, nr, dim, kmax, keep int) ([]neighbour, int, error) {
	bound := 2 * screenBound(dim)
	// The bfloat16 pass: each query's kmax best in a heap, as pushAll
	// keeps them, and its candidates: every reference above the heap's
	// worst less bound when it came (n[i] of them; −1 once too many).
	heaps := make([]neighbour, nq*kmax)
	for i := range heaps {
		heaps[i] = sentinel
	}
	cands := make([]neighbour, nq*keep)
	n := make([]int, nq)
	err := simTiles(ctx, blas.BF16(), q, nq, r, nr, dim, tileCols, func(i0, rows, j0, cols int, sims []float32) {
		for i := range rows {
			qi := i0 + i
			if n[qi] >= 0 {
				n[qi] = screenRow(heaps[qi*kmax:(qi+1)*kmax], cands[qi*keep:(qi+1)*keep], n[qi], sims[i*cols:(i+1)*cols], j0, bound)
			}
		}
	})
	if err != nil {
		return nil, 0, err
	}
	// The candidates' float32 similarities, query by query.
	out := make([]neighbour, nq*kmax)
	workers := min(runtime.GOMAXPROCS(0), nq)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
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
				low := heaps[i*kmax].sim - bound // the kmax-th best less bound
				c := cands[i*keep : i*keep+n[i]]
				m := 0
				for _, nb := range c {
					if nb.sim > low {
						c[m] = nb
						copy(rows[m*dim:], r[int(nb.idx)*dim:int(nb.idx+1)*dim])
						m++
					}
				}
				if m > 0 {
					f32.Sgemm(gblas.NoTrans, gblas.Trans, 1, m, dim, 1, q[i*dim:(i+1)*dim], dim, rows[:m*dim], dim, 0, sims[:m], m)
				}
				// Keep the kmax best by float32 similarity, the lower index
				// first among equal ones, as pushAll would have; NaNs never
				// enter.
				res := out[i*kmax : (i+1)*kmax]
				for j := range res {
					res[j] = sentinel
				}
				for j, nb := range c[:m] {
					if s := sims[j]; better(neighbour{s, nb.idx}, res[0]) {
						res[0] = neighbour{s, nb.idx}
						siftDown(res)
					}
				}
			}
		}()
	}
	wg.Wait()
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
// or −1 when c is still more than three quarters full after that.
func screenRow(h, c []neighbour, n int, sims []float32, j0 int, bound float32) int {
	thr := h[0].sim
	low := thr - bound
	for j := 0; j < len(sims); j++ {
		if k := skipNotAbove(sims[j:], low); k > 0 {
			if j += k; j >= len(sims) {
				break
			}
		}
		s := sims[j]
		if !(s > low) {
			continue
		}
		if n == len(c) {
			m := 0
			for _, nb := range c {
				if nb.sim > low {
					c[m] = nb
					m++
				}
			}
			if n = m; 4*n > 3*len(c) {
				return -1
			}
		}
		c[n] = neighbour{s, int32(j0 + j)}
		n++
		if s > thr {
			h[0] = neighbour{s, int32(j0 + j)}
			siftDown(h)
			thr = h[0].sim
			low = thr - bound
		}
	}
	return n
}
