package blas

import gblas "gonum.org/v1/gonum/blas"

// Serial returns Float32 with this package's packed Sgemm run on the
// calling goroutine alone, for callers that multiply on several goroutines
// at once, each its own rows: two single-threaded streams of large products
// outrun one stream of products split over both cores here (less packing
// done twice, no waiting for the slower half). The sums are those of
// Float32's Sgemm, which depend on k alone. ok is false where the products
// are not ours (OpenBLAS, or gonum's own where it is the faster): Serial
// then returns Float32 itself, threads and all, and callers should keep to
// one stream.
func Serial() (impl gblas.Float32, ok bool) {
	if s, isOurs := Float32().(sgemmImpl); isOurs && usePacked {
		return serialImpl{s}, true
	}
	return Float32(), false
}

// SerialOf returns impl's products on the calling goroutine alone, with
// impl's sums, where impl is Float32 or Serial and the products are ours;
// ok is false for any other implementation (BF16's, OpenBLAS, gonum's own
// where it is the faster), whose products callers should not split.
func SerialOf(impl gblas.Float32) (serial gblas.Float32, ok bool) {
	switch s := impl.(type) {
	case serialImpl:
		return s, true
	case sgemmImpl:
		if usePacked {
			return serialImpl{s}, true
		}
	}
	return nil, false
}

// InPlaceRows is the most rows of a product whose A, not transposed, the
// packed Sgemm reads in place instead of packing it first. A caller that
// multiplies a chunk of rows it has just written, still in the core's cache,
// saves that copy by keeping its products to this many rows; the sums are
// the same either way.
const InPlaceRows = mcBlock

type serialImpl struct{ sgemmImpl }

// Sgemm is sgemmImpl's on one goroutine.
func (s serialImpl) Sgemm(tA, tB gblas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if gonumsCase(tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc) {
		s.sgemmImpl.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	sgemmRange(kern, tA != gblas.NoTrans, tB != gblas.NoTrans, 0, m, 0, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
