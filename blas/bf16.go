package blas

import (
	"math"
	"runtime"

	gblas "gonum.org/v1/gonum/blas"

	"github.com/siamese-pipeline/siamese/internal/par"
)

// Mixed-precision products: C = alpha·bf16(op(A))·bf16(op(B)) + beta·C, the
// operands rounded to bfloat16 (round to nearest even) and the products
// summed in float32, as PyTorch's autocast and TensorFlow's mixed_bfloat16
// policy multiply. On CPUs with AMX-BF16 (Intel Sapphire Rapids and later,
// Linux) the tiles do the work, sixteen times the multiply-adds per cycle of
// an AVX-512 FMA; elsewhere the rounded operands go through the float32
// Sgemm, which gives the same products up to the order of the float32 sums
// and for subnormal sums, which the tiles flush to zero.

// BF16 returns the active implementation with its Sgemm replaced by the
// mixed-precision one; its other routines are Float32's.
func BF16() gblas.Float32 { return bf16Impl{impl} }

// BF16Name reports how BF16's Sgemm multiplies: "amx" or "emulated".
func BF16Name() string {
	if amx() {
		return "amx"
	}
	return "emulated"
}

// RoundBF16 rounds x to the nearest bfloat16 (ties to even), returned as the
// float32 of the same value; NaNs stay NaN and subnormals become zeros of
// their sign, as the CPU's conversion (VCVTNE2PS2BF16) and AMX read them.
func RoundBF16(x float32) float32 { return math.Float32frombits(uint32(toBF16(x)) << 16) }

func toBF16(x float32) uint16 {
	u := math.Float32bits(x)
	switch a := u & 0x7fffffff; {
	case a > 0x7f800000:
		return uint16(u>>16) | 0x40 // a quiet NaN
	case a < 0x00800000:
		return uint16(u>>16) & 0x8000 // a subnormal (or zero): a signed zero
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}

type bf16Impl struct{ gblas.Float32 }

// Sgemm is the mixed-precision product; see BF16. Invalid arguments, empty
// products and alpha == 0 are handed to the float32 implementation (which
// panics or scales C as gonum's does).
func (b16 bf16Impl) Sgemm(tA, tB gblas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if gonumsCase(tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc) {
		b16.Float32.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	aT, bT := tA != gblas.NoTrans, tB != gblas.NoTrans
	if !amx() {
		// The rounded operands, as op(A) m×k and op(B) k×n row-major.
		buf := getPackBufs(m*k+k*n, 0, 0)
		defer putPackBufs(buf)
		ra, rb := buf.a[:m*k], buf.a[m*k:m*k+k*n]
		for i := range m {
			for p := range k {
				ra[i*k+p] = RoundBF16(opAt(aT, a, lda, i, p))
			}
		}
		for p := range k {
			for j := range n {
				rb[p*n+j] = RoundBF16(opAt(bT, b, ldb, p, j))
			}
		}
		b16.Float32.Sgemm(gblas.NoTrans, gblas.NoTrans, m, n, k, alpha, ra, k, rb, n, beta, c, ldc)
		return
	}
	sgemmAMX(aT, bT, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// amxOff makes BF16 take the emulated path (tests).
var amxOff bool

// amx reports whether BF16's products run on AMX tiles.
func amx() bool { return !amxOff && amxReady() }

// opAt is op(X)(i, j) of a matrix x with leading dimension ld.
func opAt(t bool, x []float32, ld, i, j int) float32 {
	if t {
		return x[j*ld+i]
	}
	return x[i*ld+j]
}

// The AMX path. Operands are packed into bf16 tiles of 16 rows × 64 bytes,
// zero padded to multiples of 32: A by stripes of 32 rows, each a row of
// k-steps, each two tiles (rows 0–15, 16–31) of 32 values along k; B by
// blocks of 32 columns, each a column of k-steps, each two tiles (columns
// 0–15, 16–31) of 16 VNNI pair rows (the bf16 of op(B)'s rows 2q and 2q+1
// side by side in each column). C is computed in 32×32 blocks, stripes of
// rows and ranges of blocks split over the pool; into C itself when the
// blocks tile it and alpha is 1 and beta 0 or 1, else into a float32
// scratch that is then scaled into C.
const (
	amxBlock = 32
	tileLen  = 512 // bf16 in a tile
)

func roundUp(x, to int) int { return (x + to - 1) / to * to }

func sgemmAMX(aT, bT bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mp, np, kp := roundUp(m, amxBlock), roundUp(n, amxBlock), roundUp(k, amxBlock)
	stripes, blocks := mp/amxBlock, np/amxBlock
	workers := runtime.GOMAXPROCS(0)
	buf := getPackBufs(workers*amxBlock*np, 0, mp*kp+kp*np)
	defer putPackBufs(buf)
	pa, pb := buf.u[:mp*kp], buf.u[mp*kp:mp*kp+kp*np]
	x := amxProduct{m: m, n: n, kp: kp, np: np, pa: pa, pb: pb, alpha: alpha, beta: beta, c: c, ldc: ldc}
	packA := func(s int) { packABF16(aT, a, lda, m, k, s, pa[s*amxBlock*kp:(s+1)*amxBlock*kp]) }
	packB := func(cb int) { packBBF16(bT, b, ldb, k, n, cb, pb[cb*amxBlock*kp:(cb+1)*amxBlock*kp]) }

	// The smaller operand is packed here; the goroutines split the other
	// one, each packing its part and multiplying by it while it is in its
	// cache: one parallel job a product.
	if mp <= np {
		for s := range stripes {
			packA(s)
		}
		groups := min(blocks, workers)
		par.Chunks(groups, helpersFor(m*n*k), func(g int) {
			b0, b1 := blocks*g/groups, blocks*(g+1)/groups
			for cb := b0; cb < b1; cb++ {
				packB(cb)
			}
			for s := range stripes {
				x.stripe(s, b0, b1, buf.a[g*amxBlock*np:(g+1)*amxBlock*np])
			}
		})
		return
	}
	for cb := range blocks {
		packB(cb)
	}
	groups := min(stripes, workers)
	par.Chunks(groups, helpersFor(m*n*k), func(g int) {
		for s := stripes * g / groups; s < stripes*(g+1)/groups; s++ {
			packA(s)
			x.stripe(s, 0, blocks, buf.a[g*amxBlock*np:(g+1)*amxBlock*np])
		}
	})
}

// amxProduct is one product's packed operands and its C.
type amxProduct struct {
	m, n, kp, np int
	pa, pb       []uint16
	alpha, beta  float32
	c            []float32
	ldc          int
}

// stripe computes rows [32s, 32s+32) × blocks [b0, b1) of C. Blocks inside
// C are computed in place when alpha is 1 and beta 0 or 1 (accumulating
// onto C); the others into scratch (32 rows of np), then scaled into C.
func (x *amxProduct) stripe(s, b0, b1 int, scratch []float32) {
	i0, kt := s*amxBlock, x.kp/amxBlock
	rows := min(amxBlock, x.m-i0)
	accum := 0
	if x.beta == 1 {
		accum = 1
	}
	d1 := b0 // blocks [b0, d1) in place
	if x.alpha == 1 && (x.beta == 0 || x.beta == 1) && rows == amxBlock {
		d1 = max(b0, min(b1, x.n/amxBlock))
	}
	if d1 > b0 {
		amxBlocks(&amxConfig, &x.pa[i0*x.kp], &x.pb[b0*amxBlock*x.kp], &x.c[i0*x.ldc+b0*amxBlock], 4*x.ldc, kt, d1-b0, accum)
	}
	if d1 == b1 {
		return
	}
	amxBlocks(&amxConfig, &x.pa[i0*x.kp], &x.pb[d1*amxBlock*x.kp], &scratch[0], 4*x.np, kt, b1-d1, 0)
	j0, j1 := d1*amxBlock, min(x.n, b1*amxBlock)
	for r := range rows {
		scaleInto(x.c[(i0+r)*x.ldc+j0:(i0+r)*x.ldc+j1], scratch[r*x.np:], x.alpha, x.beta, x.beta != 0)
	}
}

// helpersFor is how many pool helpers a job of work element operations
// gets: none below parWork.
func helpersFor(work int) int {
	if work < parWork {
		return 0
	}
	return runtime.GOMAXPROCS(0) - 1
}

// packABF16 packs stripe s (rows 32s…32s+31) of op(A) (m×k) into dst, its
// kp/32 k-steps of two tiles each: element (i, p) of the stripe at
// (p/32·2 + i/16)·512 + i%16·32 + p%32.
func packABF16(aT bool, a []float32, lda, m, k, s int, dst []uint16) {
	steps := len(dst) / (amxBlock * amxBlock)
	full := 0 // k-steps packed by the vector code
	switch {
	case k < amxBlock:
	case !aT:
		full = k / amxBlock
		for r := range min(amxBlock, m-s*amxBlock) {
			cvtRowsAVX512(&dst[r/16*tileLen+r%16*32], 4*tileLen, &a[(s*amxBlock+r)*lda], full*amxBlock)
		}
	case (s+1)*amxBlock <= m:
		// Pairs of op(A)'s columns are pairs of a's rows: convert them
		// as VNNI pairs (rows of p/2, columns i), then transpose each
		// tile into rows of i.
		full = k / amxBlock
		for kk := range full {
			cvtPairRowsAVX512(&dst[kk*2*tileLen], &a[kk*amxBlock*lda+s*amxBlock], 4*lda, amxBlock/2)
		}
		transposeTilesAVX512(&dst[0], 2*full)
	}
	for r := range amxBlock {
		i := s*amxBlock + r
		base := r/16*tileLen + r%16*32
		kk0 := full // rows past m (a partial last stripe) are zeroed whole
		if i >= m {
			kk0 = 0
		}
		for kk := kk0; kk < steps; kk++ {
			d := dst[kk*2*tileLen+base:][:amxBlock]
			for c := range d {
				p := kk*amxBlock + c
				if i >= m || p >= k {
					d[c] = 0
				} else {
					d[c] = toBF16(opAt(aT, a, lda, i, p))
				}
			}
		}
	}
}

// packBBF16 packs block cb (columns 32cb…32cb+31) of op(B) (k×n) into dst,
// its kp/32 k-steps of two tiles each: element (p, j) of the block at
// (p/32·2 + j/16)·512 + p%32/2·32 + j%16·2 + p%2.
func packBBF16(bT bool, b []float32, ldb, k, n, cb int, dst []uint16) {
	steps := len(dst) / (amxBlock * amxBlock)
	full := 0
	if k >= amxBlock && (cb+1)*amxBlock <= n {
		full = k / amxBlock
		if !bT {
			for kk := range full {
				cvtPairRowsAVX512(&dst[kk*2*tileLen], &b[kk*amxBlock*ldb+cb*amxBlock], 4*ldb, amxBlock/2)
			}
			// The pairs of a partial last k-step of even length (784 =
			// 24·32 + 16), then zeros; an odd one is left to the loop below.
			if pairs := (k - full*amxBlock) / 2; pairs > 0 && k%2 == 0 {
				t := dst[full*2*tileLen : (full+1)*2*tileLen]
				cvtPairRowsAVX512(&t[0], &b[full*amxBlock*ldb+cb*amxBlock], 4*ldb, pairs)
				clear(t[pairs*32 : tileLen])
				clear(t[tileLen+pairs*32:])
				full++
			}
		} else {
			// Pairs of op(B)'s rows are pairs along b's rows: convert
			// each of the block's 32 rows of b (tile rows of j), then
			// transpose the tiles into rows of p/2.
			for c := range amxBlock {
				cvtRowsAVX512(&dst[c/16*tileLen+c%16*32], 4*tileLen, &b[(cb*amxBlock+c)*ldb], full*amxBlock)
			}
			transposeTilesAVX512(&dst[0], 2*full)
		}
	}
	for pp := full * amxBlock; pp < steps*amxBlock; pp++ {
		kk, q, e := pp/amxBlock, pp%amxBlock/2, pp%2
		for c := range amxBlock {
			j := cb*amxBlock + c
			v := uint16(0)
			if pp < k && j < n {
				v = toBF16(opAt(bT, b, ldb, pp, j))
			}
			dst[(kk*2+c/16)*tileLen+q*32+c%16*2+e] = v
		}
	}
}
