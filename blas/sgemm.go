package blas

import (
	"runtime"
	"sync"
	"sync/atomic"

	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Blocking of the packed single-precision GEMM (GotoBLAS/BLIS style): C is
// computed in mr×nr tiles by a register-blocked micro-kernel that reads a
// packed mr×kc panel of A and a packed kc×nr panel of B. The k dimension is
// split into equal blocks of at most kcMax (the kc×nr B micro-panel, 16 KiB,
// stays in L1; 256 and 512 measured the same on Zen 4), rows
// into blocks of mcBlock (the packed A block stays in L2) and columns into
// blocks of ncBlock.
const (
	mr      = 6
	nr      = 16
	kcMax   = 256
	mcBlock = 192  // multiple of mr
	ncBlock = 1024 // multiple of nr

	// The packed path is split over goroutines only with at least parWork
	// multiply-adds each. (Even tiny products take it: then every product
	// of the program is computed the same way, whatever its size.)
	parWork = 64 * 64 * 64
)

// kernel computes acc = Σ_p a[p*mr+r]·b[p*nr+j] over p < kc for the packed
// panels a (mr×kc) and b (kc×nr), then stores c[r*ldc+j] = alpha·acc when
// flags == 0, or alpha·acc + beta·c[r*ldc+j] otherwise (c is read only then).
// It is sgemmKernelAVX2 where the CPU has AVX2 and FMA, else kernelGo.
//
// usePacked selects the packed path at all: on amd64 CPUs without AVX2+FMA
// gonum's Sgemm (SSE assembly) is 2–3× faster than kernelGo, so it is used
// there; elsewhere kernelGo is about on par with gonum's pure-Go Sgemm.
var (
	kernel     = kernelGo
	kernelName = "go"
	usePacked  = runtime.GOARCH != "amd64"
)

// sgemmImpl is gonum's implementation with a packed, register-blocked and
// parallel Sgemm. Results are deterministic: each element of C is summed in
// an order fixed by k alone, whatever GOMAXPROCS is.
type sgemmImpl struct{ gonum.Implementation }

// Sgemm performs C = alpha·op(A)·op(B) + beta·C, as gonum's Sgemm (which
// handles invalid arguments, empty products and alpha == 0).
func (impl sgemmImpl) Sgemm(tA, tB gblas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !usePacked || alpha == 0 || m <= 0 || n <= 0 || k <= 0 ||
		!sgemmArgsOK(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc) {
		if !usePacked && alpha != 0 && m > 0 && n > 0 && k > 0 {
			nativeSgemm.Add(1)
		}
		impl.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	sgemmPacked(tA != gblas.NoTrans, tB != gblas.NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// nativeSgemm counts the products handed to gonum's own Sgemm.
var nativeSgemm atomic.Int64

// NativeSgemmCalls reports how many products the selected implementation
// has handed to gonum's own (unpacked) Sgemm since the program started:
// none, except on amd64 CPUs without AVX2+FMA, where gonum's is the faster.
// OpenBLAS never does.
func NativeSgemmCalls() int64 { return nativeSgemm.Load() }

// PackedSgemm reports whether the pure-Go build multiplies with this
// package's packed Sgemm (false where gonum's Sgemm is faster, on amd64
// CPUs without AVX2+FMA). It is true with OpenBLAS.
func PackedSgemm() bool { return usePacked || name == "openblas" }

// sgemmArgsOK reports whether gonum's Sgemm would accept the arguments
// (m, n, k > 0 assumed).
func sgemmArgsOK(tA, tB gblas.Transpose, m, n, k, la, lda, lb, ldb, lc, ldc int) bool {
	okT := func(t gblas.Transpose) bool {
		return t == gblas.NoTrans || t == gblas.Trans || t == gblas.ConjTrans
	}
	if !okT(tA) || !okT(tB) || ldc < n || lc < (m-1)*ldc+n {
		return false
	}
	if tA == gblas.NoTrans {
		if lda < k || la < (m-1)*lda+k {
			return false
		}
	} else if lda < m || la < (k-1)*lda+m {
		return false
	}
	if tB == gblas.NoTrans {
		return ldb >= n && lb >= (k-1)*ldb+n
	}
	return ldb >= k && lb >= (n-1)*ldb+k
}

// sgemmPacked splits C into column (or, when m > n, row) ranges of whole
// tiles, one chunk per available goroutine (see parallelChunks), and runs
// sgemmRange on each.
func sgemmPacked(aT, bT bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	nt := runtime.GOMAXPROCS(0)
	if w := m * n * k / parWork; w < nt {
		nt = max(w, 1)
	}
	byCols := n >= m
	units := (m + mr - 1) / mr
	if byCols {
		units = (n + nr - 1) / nr
	}
	nt = min(nt, units)
	if nt <= 1 {
		sgemmRange(aT, bT, 0, m, 0, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	parallelChunks(nt, nt-1, func(t int) {
		u0, u1 := units*t/nt, units*(t+1)/nt
		i0, i1, j0, j1 := 0, m, 0, n
		if byCols {
			j0, j1 = u0*nr, min(u1*nr, n)
		} else {
			i0, i1 = u0*mr, min(u1*mr, m)
		}
		sgemmRange(aT, bT, i0, i1, j0, j1, k, alpha, a, lda, b, ldb, beta, c, ldc)
	})
}

// packBufs holds one goroutine's packed blocks of A and B.
type packBufs struct{ a, b []float32 }

// packCache keeps packing buffers between calls. Unlike a sync.Pool it is not
// emptied by the garbage collector, which would otherwise reallocate (and
// zero) them often in an allocation-heavy training loop.
var packCache struct {
	sync.Mutex
	free []*packBufs
}

const maxCachedBufs = 16

func getPackBufs(na, nb int) *packBufs {
	packCache.Lock()
	var p *packBufs
	if n := len(packCache.free); n > 0 {
		p = packCache.free[n-1]
		packCache.free = packCache.free[:n-1]
	}
	packCache.Unlock()
	if p == nil {
		p = new(packBufs)
	}
	if cap(p.a) < na {
		p.a = make([]float32, na)
	}
	if cap(p.b) < nb {
		p.b = make([]float32, nb)
	}
	p.a, p.b = p.a[:cap(p.a)], p.b[:cap(p.b)]
	return p
}

func putPackBufs(p *packBufs) {
	packCache.Lock()
	if len(packCache.free) < maxCachedBufs {
		packCache.free = append(packCache.free, p)
	}
	packCache.Unlock()
}

// kcFor splits k into equal blocks of at most kcMax.
func kcFor(k int) int {
	nb := (k + kcMax - 1) / kcMax
	return (k + nb - 1) / nb
}

// sgemmRange computes rows [i0,i1) × columns [j0,j1) of C.
func sgemmRange(aT, bT bool, i0, i1, j0, j1, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	kcb := kcFor(k)
	mcMax := min(mcBlock, (i1-i0+mr-1)/mr*mr)
	ncMax := min(ncBlock, (j1-j0+nr-1)/nr*nr)
	bufs := getPackBufs(mcMax*kcb, ncMax*kcb)
	defer putPackBufs(bufs)
	var tmp [mr * nr]float32
	for jc := j0; jc < j1; jc += ncBlock {
		nc := min(ncBlock, j1-jc)
		for pc := 0; pc < k; pc += kcb {
			kc := min(kcb, k-pc)
			packB(bT, b, ldb, pc, kc, jc, nc, bufs.b)
			flags, bt := 1, float32(1)
			if pc == 0 {
				bt = beta
				if beta == 0 {
					flags = 0
				}
			}
			for ic := i0; ic < i1; ic += mcBlock {
				mc := min(mcBlock, i1-ic)
				packA(aT, a, lda, ic, mc, pc, kc, bufs.a)
				for jr := 0; jr < nc; jr += nr {
					nn := min(nr, nc-jr)
					bp := &bufs.b[jr*kc]
					for ir := 0; ir < mc; ir += mr {
						mm := min(mr, mc-ir)
						ap := &bufs.a[ir*kc]
						ci := (ic+ir)*ldc + jc + jr
						if mm == mr && nn == nr {
							_ = c[ci+(mr-1)*ldc+nr-1] // the kernel writes up to here
							kernel(kc, ap, bp, &c[ci], ldc, alpha, bt, flags)
							continue
						}
						kernel(kc, ap, bp, &tmp[0], nr, 1, 0, 0)
						for r := 0; r < mm; r++ {
							row := c[ci+r*ldc : ci+r*ldc+nn]
							t := tmp[r*nr : r*nr+nn]
							if flags == 0 {
								for j := range row {
									row[j] = alpha * t[j]
								}
							} else {
								for j := range row {
									row[j] = alpha*t[j] + bt*row[j]
								}
							}
						}
					}
				}
			}
		}
	}
}
