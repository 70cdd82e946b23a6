package model

import (
	"fmt"
	"math"

	gblas "gonum.org/v1/gonum/blas"

	"github.com/siamese-pipeline/siamese/blas"
)

// normEps clamps squared norms before the square root, as Keras's
// l2_normalize does: x / sqrt(max(sum(x²), 1e-12)).
const normEps = 1e-12

// denseForward computes out = act(x·W + b) for rows rows of x (rows×in).
// It is shared by the graph's dense op and by Embed so both agree bit for bit.
func denseForward(impl gblas.Float32, x []float32, rows, in, out int, w, b []float32, relu bool, y []float32) {
	y = y[:rows*out]
	for r := 0; r < rows; r++ {
		copy(y[r*out:(r+1)*out], b)
	}
	impl.Sgemm(gblas.NoTrans, gblas.NoTrans, rows, out, in, 1, x, in, w, out, 1, y, out)
	if relu {
		reluInPlace(y)
	}
}

// embedChunk bounds the rows Embed pushes through the network at once.
const embedChunk = 512

// convScratchFloats bounds the im2col scratch of one conv block in Embed.
const convScratchFloats = 1 << 22

// convChunk is the rows Embed pushes through conv blocks cs at once: as
// many as keep every block's scratch within convScratchFloats, at least one.
func convChunk(cs []ConvLayer) int {
	rows := embedChunk
	for i := range cs {
		per := cs[i].pixels() * convTaps * max(cs[i].In, cs[i].Out)
		rows = min(rows, max(1, convScratchFloats/per))
	}
	return rows
}

// Embed runs the network forward on n rows of x (n×Input, row-major) and
// returns the n×embedding outputs. It uses the selected BLAS directly, without
// gorgonia; calls may run concurrently. It panics if w is malformed or x is
// shorter than n rows.
func Embed(w *Weights, x []float32, n int) []float32 { return EmbedWith(blas.Float32(), w, x, n) }

// EmbedWith is Embed with impl's products (blas.Serial's, for callers that
// embed on several goroutines at once); the outputs are Embed's wherever
// impl's sums are Float32's.
func EmbedWith(impl gblas.Float32, w *Weights, x []float32, n int) []float32 {
	if err := w.Check(); err != nil {
		panic(err)
	}
	in, outDim := w.InputDim(), w.OutputDim()
	if len(x) < n*in {
		panic(fmt.Sprintf("model: EmbedWith: len(x)=%d < n*Input=%d", len(x), n*in))
	}
	out := make([]float32, n*outDim)
	chunk := min(n, embedChunk)
	if len(w.Conv) > 0 {
		chunk = min(n, convChunk(w.Conv))
	}
	maxW := 0
	for _, l := range w.Layers {
		maxW = max(maxW, l.Out)
	}
	for _, l := range w.Conv {
		maxW = max(maxW, l.OutDim())
	}
	bufA := make([]float32, chunk*maxW)
	bufB := make([]float32, chunk*maxW)
	scratch := make([]*convScratch, len(w.Conv))
	for i := range w.Conv {
		scratch[i] = newConvScratch(&w.Conv[i], chunk)
	}
	last := len(w.Layers) - 1
	for r0 := 0; r0 < n; r0 += chunk {
		rows := min(chunk, n-r0)
		src := x[r0*in : (r0+rows)*in]
		for i := range w.Conv {
			l := &w.Conv[i]
			convForward(impl, l, src, rows, scratch[i], bufA, 0)
			src = bufA[:rows*l.OutDim()]
			bufA, bufB = bufB, bufA
		}
		for i, l := range w.Layers {
			dst := bufA
			if i == last {
				dst = out[r0*outDim : (r0+rows)*outDim]
			}
			denseForward(impl, src, rows, l.In, l.Out, l.W, l.B, i != last, dst)
			src = dst[:rows*l.Out]
			bufA, bufB = bufB, bufA
		}
	}
	return out
}

// Loss is the mean triplet loss of t under w, forward only (NaN for no
// triplets). It panics if t does not Check.
func Loss(w *Weights, t TripletSource, margin float32) float64 {
	if err := t.Check(); err != nil {
		panic(err)
	}
	n, dim := t.Shape()
	if n == 0 {
		return math.NaN()
	}
	const chunkTriplets = 1024
	d := w.OutputDim()
	buf := make([]float32, min(n, chunkTriplets)*3*dim)
	idx := make([]int, 0, chunkTriplets)
	var sum float64
	for i := 0; i < n; i += chunkTriplets {
		idx = idx[:0]
		for j := i; j < min(n, i+chunkTriplets); j++ {
			idx = append(idx, j)
		}
		t.Gather(buf, idx)
		e := Embed(w, buf, 3*len(idx))
		sum += tripletLoss(e, d, len(idx), margin, 0, nil)
	}
	return sum / float64(n)
}

// tripletLoss returns the summed hinge loss of the first n triplets of e
// (rows anchor, positive, negative; each row d floats):
//
//	max(0, cosd(a,p) − cosd(a,n) + margin), cosd(x,y) = 1 − x̂·ŷ.
//
// If de is not nil it also writes scale·∂(sum)/∂e into de for those 3n rows
// (rows beyond are left alone). Sums run in float64.
func tripletLoss(e []float32, d, n int, margin float32, scale float64, de []float32) float64 {
	var total float64
	m := float64(margin)
	for i := 0; i < n; i++ {
		a := e[(3*i)*d : (3*i+1)*d]
		p := e[(3*i+1)*d : (3*i+2)*d]
		q := e[(3*i+2)*d : (3*i+3)*d]
		var sa, sp, sq, ap, aq float64
		for k := 0; k < d; k++ {
			av, pv, qv := float64(a[k]), float64(p[k]), float64(q[k])
			sa += av * av
			sp += pv * pv
			sq += qv * qv
			ap += av * pv
			aq += av * qv
		}
		ra := math.Sqrt(math.Max(sa, normEps))
		rp := math.Sqrt(math.Max(sp, normEps))
		rq := math.Sqrt(math.Max(sq, normEps))
		cosP := ap / (ra * rp)
		cosQ := aq / (ra * rq)
		l := cosQ - cosP + m // (1−cosP) − (1−cosQ) + margin
		if l > 0 {
			total += l
		}
		if de == nil {
			continue
		}
		da := de[(3*i)*d : (3*i+1)*d]
		dp := de[(3*i+1)*d : (3*i+2)*d]
		dq := de[(3*i+2)*d : (3*i+3)*d]
		if !(l > 0) {
			clear(da)
			clear(dp)
			clear(dq)
			continue
		}
		// ∂l/∂â = q̂ − p̂, ∂l/∂p̂ = −â, ∂l/∂q̂ = â; through u = x/r:
		// ∂x = (∂u − u(u·∂u))/r, without the projection where r was clamped.
		pa, pp, pq := cosQ-cosP, -cosP, cosQ
		if sa <= normEps {
			pa = 0
		}
		if sp <= normEps {
			pp = 0
		}
		if sq <= normEps {
			pq = 0
		}
		for k := 0; k < d; k++ {
			ua, up, uq := float64(a[k])/ra, float64(p[k])/rp, float64(q[k])/rq
			da[k] = float32(scale * (uq - up - ua*pa) / ra)
			dp[k] = float32(scale * (-ua - up*pp) / rp)
			dq[k] = float32(scale * (ua - uq*pq) / rq)
		}
	}
	return total
}
