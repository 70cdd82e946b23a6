package blas

import (
	"runtime"
	"sync"
	"sync/atomic"

	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/siamese-pipeline/siamese/internal/par"
)

// Blocking of the packed single-precision GEMM (GotoBLAS/BLIS style): C is
// computed in mr×nr tiles by a register-blocked micro-kernel that reads a
// packed mr×kc panel of A and a kc×nr panel of B (packed, or read in place
// when B is not transposed). The k dimension is split into equal blocks of at
// most kcMax, rows into blocks of mcBlock (the packed A block stays in L2) and
// columns into blocks of ncBlock.
const (
	mr      = 6
	nrMax   = 32 // the widest micro-kernel's nr
	kcMax   = 256
	mcBlock = 192  // multiple of mr
	ncBlock = 1024 // multiple of every nr

	// The packed path is split over goroutines only with at least parWork
	// multiply-adds each. (Even tiny products take it: then every product
	// of the program is computed the same way, whatever its size.)
	parWork = 64 * 64 * 64
)

// A microKernel computes acc = Σ_p a[p*pa+r*ra]·b[p*ldb+j] over p < kc,
// r < mr, j < nr, for an mr×kc panel a whose columns are pa apart and rows ra
// apart (mr and 1 when packed) and a kc×nr panel b whose rows are ldb apart
// (nr when packed), then stores c[r*ldc+j] = alpha·acc when flags == 0, or
// alpha·acc + beta·c[r*ldc+j] otherwise (c is read only then).
type microKernel struct {
	name string
	nr   int
	run  func(kc int, a *float32, pa, ra int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int)
}

// goKernel is the portable micro-kernel (kernelGo).
var goKernel = microKernel{name: "go", nr: nrGo, run: kernelGo}

// kernels lists the micro-kernels this CPU can run, fastest first: the
// assembly ones where the CPU has AVX-512 or AVX2+FMA (sgemm_amd64.go), then
// goKernel. kern is the one in use.
//
// usePacked selects the packed path at all: on amd64 CPUs without AVX2+FMA
// gonum's Sgemm (SSE assembly) is 2–3× faster than kernelGo, so it is used
// there; elsewhere kernelGo is about on par with gonum's pure-Go Sgemm.
var (
	kernels   = []microKernel{goKernel}
	kern      = goKernel
	usePacked = runtime.GOARCH != "amd64"
)

// sgemmImpl is gonum's implementation with a packed, register-blocked and
// parallel Sgemm. Results are deterministic: each element of C is summed in
// an order fixed by k alone, whatever GOMAXPROCS is.
type sgemmImpl struct{ gonum.Implementation }

// Sgemm performs C = alpha·op(A)·op(B) + beta·C, as gonum's Sgemm (which
// handles invalid arguments, empty products and alpha == 0).
func (impl sgemmImpl) Sgemm(tA, tB gblas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !usePacked || gonumsCase(tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc) {
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

// gonumsCase reports whether a product is gonum's Sgemm's to handle rather
// than a packed one's: alpha 0 or an empty product (C only scaled), or
// arguments gonum panics on.
func gonumsCase(tA, tB gblas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) bool {
	return alpha == 0 || m <= 0 || n <= 0 || k <= 0 || !sgemmArgsOK(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
}

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
// tiles, one chunk per available goroutine (see par.Chunks), and runs
// sgemmRange on each. A product whose columns hold fewer panels than
// goroutines is split by rows when that gives more chunks: a weight gradient
// of a few rows and one panel of columns, summed over many pixels, would
// otherwise run on one goroutine. (Rows never hold fewer tiles than columns
// when m > n, as mr < nr.) Each element's sum is the same whichever way C is
// split.
func sgemmPacked(aT, bT bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	nt := runtime.GOMAXPROCS(0)
	if w := m * n * k / parWork; w < nt {
		nt = max(w, 1)
	}
	k0 := kern // one kernel for the whole product
	nr := k0.nr
	rowUnits, colUnits := (m+mr-1)/mr, (n+nr-1)/nr
	byCols := n >= m && (colUnits >= nt || colUnits >= rowUnits)
	units := rowUnits
	if byCols {
		units = colUnits
	}
	nt = min(nt, units)
	if nt <= 1 {
		sgemmRange(k0, aT, bT, 0, m, 0, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	par.Chunks(nt, nt-1, func(t int) {
		u0, u1 := units*t/nt, units*(t+1)/nt
		i0, i1, j0, j1 := 0, m, 0, n
		if byCols {
			j0, j1 = u0*nr, min(u1*nr, n)
		} else {
			i0, i1 = u0*mr, min(u1*mr, m)
		}
		sgemmRange(k0, aT, bT, i0, i1, j0, j1, k, alpha, a, lda, b, ldb, beta, c, ldc)
	})
}

// packBufs holds one goroutine's packed blocks of A and B (float32), or
// one bf16 product's packed operands (u) and float32 scratch (a).
type packBufs struct {
	a, b []float32
	u    []uint16
}

// packCache keeps packing buffers between calls. Unlike a sync.Pool it is not
// emptied by the garbage collector, which would otherwise reallocate (and
// zero) them often in an allocation-heavy training loop.
var packCache struct {
	sync.Mutex
	free []*packBufs
}

const maxCachedBufs = 16

func getPackBufs(na, nb, nu int) *packBufs {
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
	if cap(p.u) < nu {
		p.u = make([]uint16, nu)
	}
	p.a, p.b, p.u = p.a[:cap(p.a)], p.b[:cap(p.b)], p.u[:cap(p.u)]
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

// sgemmRange computes rows [i0,i1) × columns [j0,j1) of C with kernel kn.
//
// Panels are packed unless the kernel can read them in place: it takes A's
// panels with any strides (columns pa, rows ra apart), and B's when op(B)'s
// nr columns for one p lie side by side, that is when B is not transposed.
// Such panels are read from A and B themselves when their leading dimension
// is at most maxDirectLD floats (beyond that, packing saves TLB misses);
// only a partial last panel is packed then. Which panels are packed changes
// nothing in the sums, only where they are read from.
func sgemmRange(kn microKernel, aT, bT bool, i0, i1, j0, j1, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	nr := kn.nr
	kcb := kcFor(k)
	// A row-major A is read in place only in products of few rows
	// (training's): for more, packed panels measured faster (MAP@R on 10,000
	// items, 5-10 %).
	directA := direct && lda <= maxDirectLD && (aT || i1-i0 <= mcBlock)
	directB := direct && !bT && ldb <= maxDirectLD
	mcMax := min(mcBlock, roundUp(i1-i0, mr))
	ncMax := min(ncBlock, roundUp(j1-j0, nr))
	if directA {
		mcMax = mr // room for a partial last panel
	}
	if directB {
		ncMax = nr
	}
	bufs := getPackBufs(mcMax*kcb, ncMax*kcb, 0)
	defer putPackBufs(bufs)
	var tmp [mr * nrMax]float32
	for jc := j0; jc < j1; jc += ncBlock {
		nc := min(ncBlock, j1-jc)
		for pc := 0; pc < k; pc += kcb {
			kc := min(kcb, k-pc)
			if !directB {
				packB(bT, b, ldb, pc, kc, jc, nc, nr, bufs.b)
			} else if rest := nc % nr; rest != 0 {
				packB(false, b, ldb, pc, kc, jc+nc-rest, rest, nr, bufs.b)
			}
			flags, bt := 1, float32(1)
			if pc == 0 {
				bt = beta
				if beta == 0 {
					flags = 0
				}
			}
			for ic := i0; ic < i1; ic += mcBlock {
				mc := min(mcBlock, i1-ic)
				if !directA {
					packA(aT, a, lda, ic, mc, pc, kc, bufs.a)
				} else if rest := mc % mr; rest != 0 {
					packA(aT, a, lda, ic+mc-rest, rest, pc, kc, bufs.a)
				}
				for jr := 0; jr < nc; jr += nr {
					nn := min(nr, nc-jr)
					var bp *float32
					bs := nr
					switch {
					case !directB:
						bp = &bufs.b[jr*kc]
					case nn == nr:
						bp, bs = &b[pc*ldb+jc+jr], ldb
					default: // the partial last panel, packed
						bp = &bufs.b[0]
					}
					for ir := 0; ir < mc; ir += mr {
						mm := min(mr, mc-ir)
						ap, pa, ra := (*float32)(nil), mr, 1
						switch {
						case !directA:
							ap = &bufs.a[ir*kc]
						case mm < mr: // the partial last panel, packed
							ap = &bufs.a[0]
						case aT: // op(A)(i, p) = a[p*lda+i]
							ap, pa = &a[pc*lda+ic+ir], lda
						default: // op(A)(i, p) = a[i*lda+p]
							ap, pa, ra = &a[(ic+ir)*lda+pc], 1, lda
						}
						ci := (ic+ir)*ldc + jc + jr
						if mm == mr && nn == nr {
							_ = c[ci+(mr-1)*ldc+nr-1] // the kernel writes up to here
							kn.run(kc, ap, pa, ra, bp, bs, &c[ci], ldc, alpha, bt, flags)
							continue
						}
						kn.run(kc, ap, pa, ra, bp, bs, &tmp[0], nr, 1, 0, 0)
						for r := 0; r < mm; r++ {
							scaleInto(c[ci+r*ldc:ci+r*ldc+nn], tmp[r*nr:r*nr+nn], alpha, bt, flags != 0)
						}
					}
				}
			}
		}
	}
}

// scaleInto writes dst = alpha·src, plus beta·dst when readC (dst is not
// read otherwise, as a product with beta 0 never reads C).
func scaleInto(dst, src []float32, alpha, beta float32, readC bool) {
	src = src[:len(dst)]
	if !readC {
		for j := range dst {
			dst[j] = alpha * src[j]
		}
		return
	}
	for j := range dst {
		dst[j] = alpha*src[j] + beta*dst[j]
	}
}

// maxDirectLD is the widest leading dimension whose panels are read in place.
const maxDirectLD = 4096

// direct enables reading panels in place (tests and benchmarks turn it off).
var direct = true
