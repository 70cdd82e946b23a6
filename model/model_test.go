package model

import (
	"math"
	"math/rand/v2"
	"testing"

	gblas "gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/siamese-pipeline/siamese/blas"
)

func smallConfig(input int, hidden ...int) Config {
	c := DefaultConfig()
	c.Input, c.Hidden = input, hidden
	return c
}

func randFloats(r *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * scale)
	}
	return x
}

func randTriplets(seed uint64, n, dim int) Triplets {
	r := rand.New(rand.NewPCG(seed, 7))
	return Triplets{N: n, Dim: dim, Data: randFloats(r, n*3*dim, 1)}
}

// clusterTriplets draws anchors and positives around center posC and
// negatives around center negC (per triplet one of two clusters is chosen,
// swap flips which one is the positive).
func clusterTriplets(seed uint64, n, dim int, swap bool) Triplets {
	r := rand.New(rand.NewPCG(seed, 11))
	c0, c1 := make([]float64, dim), make([]float64, dim)
	for k := range dim {
		c0[k], c1[k] = 0, 0
		if k < dim/2 {
			c0[k] = 2
		} else {
			c1[k] = 2
		}
	}
	t := Triplets{N: n, Dim: dim, Data: make([]float32, n*3*dim)}
	for i := range n {
		a, b := c0, c1
		if r.IntN(2) == 1 {
			a, b = b, a
		}
		centers := [3][]float64{a, a, b}
		if swap {
			centers = [3][]float64{a, b, a}
		}
		for j, c := range centers {
			row := t.Data[(3*i+j)*dim : (3*i+j+1)*dim]
			for k := range row {
				row[k] = float32(c[k] + 0.5*r.NormFloat64())
			}
		}
	}
	return t
}

func TestBLASName(t *testing.T) {
	if n := blas.Name(); n != "gonum" && n != "openblas" {
		t.Fatalf("blas.Name() = %q", n)
	}
	t.Logf("BLAS: %s", blas.Name())
}

func TestInitWeights(t *testing.T) {
	tests := []struct {
		input  int
		hidden []int
	}{
		{784, []int{512, 256, 128}},
		{5, []int{3}},
		{10, []int{20, 1}},
	}
	for _, tc := range tests {
		cfg := smallConfig(tc.input, tc.hidden...)
		cfg.Seed = 42
		w := InitWeights(cfg)
		if err := w.Check(); err != nil {
			t.Fatal(err)
		}
		if len(w.Layers) != len(tc.hidden) {
			t.Fatalf("%d layers, want %d", len(w.Layers), len(tc.hidden))
		}
		in := tc.input
		for i, l := range w.Layers {
			if l.In != in || l.Out != tc.hidden[i] {
				t.Fatalf("layer %d is %dx%d, want %dx%d", i, l.In, l.Out, in, tc.hidden[i])
			}
			limit := math.Sqrt(6 / float64(l.In+l.Out))
			var lo, hi, sum, sq float64 = math.Inf(1), math.Inf(-1), 0, 0
			for _, v := range l.W {
				f := float64(v)
				lo, hi = math.Min(lo, f), math.Max(hi, f)
				sum += f
				sq += f * f
			}
			if lo < -limit || hi > limit {
				t.Errorf("layer %d: weights in [%g, %g], limit %g", i, lo, hi, limit)
			}
			if len(l.W) >= 1000 { // uniform: mean 0, variance limit²/3, spread to the limits
				nf := float64(len(l.W))
				mean, vari := sum/nf, sq/nf-(sum/nf)*(sum/nf)
				if math.Abs(mean) > 0.02*limit || math.Abs(vari/(limit*limit/3)-1) > 0.05 || hi < 0.99*limit || lo > -0.99*limit {
					t.Errorf("layer %d: mean %g variance %g, want 0 and %g", i, mean, vari, limit*limit/3)
				}
			}
			for _, b := range l.B {
				if b != 0 {
					t.Fatalf("layer %d: nonzero bias %g", i, b)
				}
			}
			in = l.Out
		}
		if !InitWeights(cfg).Equal(w) {
			t.Error("same seed gave different weights")
		}
		cfg.Seed++
		if InitWeights(cfg).Equal(w) {
			t.Error("different seeds gave the same weights")
		}
	}
}

// TestTripletLossGradient checks the fused loss's hand-written gradient
// against central differences (the loss is summed in float64).
func TestTripletLossGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	const n, d = 6, 5
	tests := []struct {
		name   string
		margin float32
		scale  float64
	}{
		{"margin0.4", 0.4, 1},
		{"margin1.5", 1.5, 1.0 / n},
		{"scaled", 0.8, -2.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := randFloats(r, 3*n*d, 1)
			de := make([]float32, len(e))
			tripletLoss(e, d, n, tc.margin, tc.scale, de)
			for k := range e {
				h := float32(1e-3) * max(1, float32(math.Abs(float64(e[k]))))
				old := e[k]
				e[k] = old + h
				hp := float64(e[k] - old)
				lp := tripletLoss(e, d, n, tc.margin, 0, nil)
				e[k] = old - h
				hm := float64(old - e[k])
				lm := tripletLoss(e, d, n, tc.margin, 0, nil)
				e[k] = old
				fd := tc.scale * (lp - lm) / (hp + hm)
				if diff := math.Abs(fd - float64(de[k])); diff > 1e-4+1e-3*math.Abs(fd) {
					t.Errorf("e[%d]: grad %g, finite difference %g", k, de[k], fd)
				}
			}
		})
	}
}

func TestTripletLossZeroVectors(t *testing.T) {
	const d = 4
	e := make([]float32, 3*d) // all-zero anchor, positive and negative
	e[d] = 1                  // positive non-zero
	de := make([]float32, len(e))
	l := tripletLoss(e, d, 1, 0.4, 1, de)
	if math.IsNaN(l) || math.IsInf(l, 0) || l != float64(float32(0.4)) {
		t.Fatalf("loss %g, want 0.4", l)
	}
	for k, v := range de {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("de[%d] = %g", k, v)
		}
	}
	w := InitWeights(smallConfig(d, 3))
	clear(w.Layers[0].W) // every embedding is the zero bias
	if l := Loss(w, Triplets{N: 1, Dim: d, Data: e}, 0.4); l != float64(float32(0.4)) {
		t.Fatalf("Loss with zero embeddings = %g, want 0.4", l)
	}
}

// newNet builds the triplet network for batches of b triplets, its
// products in float32.
func newNet(w *Weights, b int, margin float32) (n *net, err error) {
	return newTripletNet(w, b, margin, blas.Float32())
}

// netGrads runs the training graph on t (all in one batch of b slots) and
// returns a copy of the gradients, in Weights form, and the loss.
func netGrads(t *testing.T, w *Weights, tr Triplets, b int, margin float32) (*Weights, float64) {
	t.Helper()
	return netGradsWith(t, w, tr, b, margin, blas.Float32())
}

// netGradsWith is netGrads with the graph's products by products.
func netGradsWith(t *testing.T, w *Weights, tr Triplets, b int, margin float32, products gblas.Float32) (*Weights, float64) {
	t.Helper()
	grads, loss := graphGrads(t, w, tr, b, margin, products)
	g := w.Clone()
	for i, p := range g.params() {
		copy(p, grads[i])
	}
	return g, loss
}

// TestNetworkGradient checks the graph's parameter gradients against
// central differences of Loss through the whole network, with full and
// partial (masked) batches.
func TestNetworkGradient(t *testing.T) {
	tests := []struct {
		name        string
		n, b        int
		margin      float32
		input, seed uint64
	}{
		{"full batch", 4, 4, 1.5, 6, 1},
		{"partial batch", 3, 5, 1.5, 6, 2},
		{"margin 0.4", 5, 5, 0.4, 7, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := smallConfig(int(tc.input), 5, 4, 3)
			cfg.Seed = tc.seed
			w := InitWeights(cfg)
			r := rand.New(rand.NewPCG(tc.seed, 9))
			for i := range w.Layers { // non-zero biases too
				copy(w.Layers[i].B, randFloats(r, len(w.Layers[i].B), 0.1))
			}
			tr := randTriplets(tc.seed, tc.n, cfg.Input)
			grads, loss := netGrads(t, w, tr, tc.b, tc.margin)
			if want := Loss(w, tr, tc.margin); math.Abs(loss-want) > 1e-6 {
				t.Fatalf("graph loss %g, Loss %g", loss, want)
			}
			check := func(name string, p, g []float32) {
				checkCentralDifferences(t, name, p, g, func() float64 { return Loss(w, tr, tc.margin) })
			}
			for i := range w.Layers {
				check("W"+string(rune('0'+i)), w.Layers[i].W, grads.Layers[i].W)
				check("b"+string(rune('0'+i)), w.Layers[i].B, grads.Layers[i].B)
			}
		})
	}
}

// TestPartialBatchEqualsExactBatch: the masked partial batch gives the
// gradient of a graph built for exactly that many triplets.
func TestPartialBatchEqualsExactBatch(t *testing.T) {
	cfg := smallConfig(9, 8, 4)
	w := InitWeights(cfg)
	tr := randTriplets(5, 6, cfg.Input)
	masked, lm := netGrads(t, w, tr, 32, cfg.Margin)
	exact, le := netGrads(t, w, tr, 6, cfg.Margin)
	if math.Abs(lm-le) > 1e-6 { // BLAS kernels may differ with the row count
		t.Fatalf("loss %g (masked) vs %g (exact)", lm, le)
	}
	for i := range masked.Layers {
		for k, v := range masked.Layers[i].W {
			if math.Abs(float64(v-exact.Layers[i].W[k])) > 1e-6 {
				t.Fatalf("W%d[%d]: %g vs %g", i, k, v, exact.Layers[i].W[k])
			}
		}
		for k, v := range masked.Layers[i].B {
			if math.Abs(float64(v-exact.Layers[i].B[k])) > 1e-6 {
				t.Fatalf("b%d[%d]: %g vs %g", i, k, v, exact.Layers[i].B[k])
			}
		}
	}
}

// stockForward is the network written with gorgonia's own ops.
func stockForward(t *testing.T, w *Weights, x []float32, n int) []float32 {
	t.Helper()
	g := G.NewGraph()
	h := G.NewMatrix(g, G.Float32, G.WithShape(n, w.InputDim()), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(n, w.InputDim()), tensor.WithBacking(append([]float32(nil), x...)))))
	for i, l := range w.Layers {
		wn := G.NewMatrix(g, G.Float32, G.WithShape(l.In, l.Out), G.WithValue(tensor.New(tensor.WithShape(l.In, l.Out), tensor.WithBacking(l.W))))
		bn := G.NewMatrix(g, G.Float32, G.WithShape(1, l.Out), G.WithValue(tensor.New(tensor.WithShape(1, l.Out), tensor.WithBacking(l.B))))
		h = G.Must(G.BroadcastAdd(G.Must(G.Mul(h, wn)), bn, nil, []byte{0}))
		if i < len(w.Layers)-1 {
			h = G.Must(G.Rectify(h))
		}
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), h.Value().Data().([]float32)...)
}

func TestEmbedMatchesGorgonia(t *testing.T) {
	tests := []struct {
		name   string
		input  int
		hidden []int
		rows   int
	}{
		{"notebook", 784, []int{512, 256, 128}, 96},
		{"chunked", 20, []int{16, 8}, 2*embedChunk + 37},
		{"one layer", 7, []int{3}, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := smallConfig(tc.input, tc.hidden...)
			w := InitWeights(cfg)
			r := rand.New(rand.NewPCG(1, 1))
			for i := range w.Layers {
				copy(w.Layers[i].B, randFloats(r, len(w.Layers[i].B), 0.1))
			}
			x := randFloats(r, tc.rows*tc.input, 1)
			got := Embed(w, x, tc.rows)
			if serial, ok := blas.Serial(); ok { // one goroutine's products, bit for bit
				for i, v := range EmbedWith(serial, w, x, tc.rows) {
					if math.Float32bits(v) != math.Float32bits(got[i]) {
						t.Fatalf("[%d]: EmbedWith(blas.Serial()) %g, Embed %g", i, v, got[i])
					}
				}
			}
			want := stockForward(t, w, x, tc.rows)
			if len(got) != tc.rows*cfg.EmbeddingDim() || len(want) != len(got) {
				t.Fatalf("len %d vs %d", len(got), len(want))
			}
			for i := range got {
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("[%d]: Embed %g, gorgonia %g", i, got[i], want[i])
				}
			}
			if tc.rows%3 == 0 { // the training graph's forward, bit for bit
				b := tc.rows / 3
				n, err := newNet(w, b, 0.4)
				if err != nil {
					t.Fatal(err)
				}
				defer n.close()
				tr := Triplets{N: b, Dim: tc.input, Data: x}
				idx := make([]int, b)
				for i := range idx {
					idx[i] = i
				}
				n.load(tr, idx)
				if _, err := n.run(); err != nil {
					t.Fatal(err)
				}
				e := n.embed.Value().Data().([]float32)
				for i := range got {
					if math.Float32bits(e[i]) != math.Float32bits(got[i]) {
						t.Fatalf("[%d]: training graph %g, Embed %g", i, e[i], got[i])
					}
				}
			}
		})
	}
}

type fakeVG struct{ w, g *tensor.Dense }

func (f fakeVG) Value() G.Value         { return f.w }
func (f fakeVG) Grad() (G.Value, error) { return f.g, nil }
func vec(x ...float32) *tensor.Dense {
	return tensor.New(tensor.WithShape(len(x)), tensor.WithBacking(x))
}
func kerasAdamRef(w, m, v []float64, g []float64, t int, lr, b1, b2, eps float64) {
	for k := range w {
		m[k] = b1*m[k] + (1-b1)*g[k]
		v[k] = b2*v[k] + (1-b2)*g[k]*g[k]
		alpha := lr * math.Sqrt(1-math.Pow(b2, float64(t))) / (1 - math.Pow(b1, float64(t)))
		w[k] -= alpha * m[k] / (math.Sqrt(v[k]) + eps)
	}
}

func TestAdamMatchesKeras(t *testing.T) {
	tests := []struct {
		name            string
		lr, b1, b2, eps float64
		w0              []float32
		workers         int
	}{
		{"notebook", 3e-5, 0.9, 0.999, 1e-7, []float32{0.5, -1.25, 2, 0}, 1},
		{"big lr", 0.1, 0.8, 0.99, 1e-3, []float32{1, 2, 3}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &Adam{LR: tc.lr, Beta1: tc.b1, Beta2: tc.b2, Epsilon: tc.eps, Workers: tc.workers}
			w := vec(append([]float32(nil), tc.w0...)...)
			gt := vec(make([]float32, len(tc.w0))...)
			rw := make([]float64, len(tc.w0))
			for k, v := range tc.w0 {
				rw[k] = float64(v)
			}
			rm, rv := make([]float64, len(rw)), make([]float64, len(rw))
			r := rand.New(rand.NewPCG(4, 4))
			for step := 1; step <= 6; step++ {
				g := gt.Float32s()
				rg := make([]float64, len(g))
				for k := range g {
					g[k] = float32(r.NormFloat64())
					if step == 3 {
						g[k] = 0 // a zero gradient still moves w through m
					}
					rg[k] = float64(g[k])
				}
				if err := a.Step([]G.ValueGrad{fakeVG{w, gt}}); err != nil {
					t.Fatal(err)
				}
				kerasAdamRef(rw, rm, rv, rg, step, tc.lr, tc.b1, tc.b2, tc.eps)
				for k, v := range w.Float32s() {
					if d := math.Abs(float64(v) - rw[k]); d > 1e-6*(1+math.Abs(rw[k])) {
						t.Fatalf("step %d w[%d] = %.9g, Keras %.9g", step, k, v, rw[k])
					}
					if d := math.Abs(float64(a.State.M[0][k]) - rm[k]); d > 1e-6 {
						t.Fatalf("step %d m[%d] = %g, want %g", step, k, a.State.M[0][k], rm[k])
					}
				}
				if a.State.T != step {
					t.Fatalf("T = %d, want %d", a.State.T, step)
				}
			}
		})
	}
}

// TestAdamFirstStep: Keras's first step moves every weight by about lr·sign(g).
func TestAdamFirstStep(t *testing.T) {
	a := NewAdam(DefaultConfig())
	w := vec(1, 1, 1)
	g := vec(0.3, -7, 1e-3)
	if err := a.Step([]G.ValueGrad{fakeVG{w, g}}); err != nil {
		t.Fatal(err)
	}
	for k, want := range []float64{1 - 3e-5, 1 + 3e-5, 1 - 3e-5} {
		if d := math.Abs(float64(w.Float32s()[k]) - want); d > 1e-7 {
			t.Errorf("w[%d] = %.9g, want %.9g", k, w.Float32s()[k], want)
		}
	}
}

// TestAdamKernelMatchesScalar: the vector kernel and the scalar reference
// agree bit for bit, tails included.
func TestAdamKernelMatchesScalar(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	c := &adamConsts{b1: 0.9, c1: float32(1 - 0.9), b2: 0.999, c2: float32(1 - 0.999), alpha: 3e-5, eps: 1e-7}
	for _, n := range []int{1, 7, 8, 9, 64, 1000, 1 << 15} {
		w := randFloats(r, n, 0.1)
		g := randFloats(r, n, 1e-2)
		m := randFloats(r, n, 1e-3)
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.Float64() * 1e-6)
			if i%5 == 0 {
				g[i], v[i] = 0, 0
			}
			switch i % 7 { // subnormal operands, and results that underflow
			case 1:
				m[i] = float32(r.NormFloat64() * 1e-39)
			case 2:
				g[i], m[i], v[i] = float32(r.NormFloat64()*1e-21), float32(r.NormFloat64()*1e-37), 1e-38
			case 3:
				w[i] = float32(r.NormFloat64() * 1e-40)
			}
		}
		w2, m2, v2 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
		adamKernel(w, g, m, v, c)
		adamScalar(w2, g, m2, v2, c)
		for i := range w {
			if math.Float32bits(w[i]) != math.Float32bits(w2[i]) || math.Float32bits(m[i]) != math.Float32bits(m2[i]) || math.Float32bits(v[i]) != math.Float32bits(v2[i]) {
				t.Fatalf("n=%d [%d]: kernel (%g %g %g) scalar (%g %g %g)", n, i, w[i], m[i], v[i], w2[i], m2[i], v2[i])
			}
		}
	}
	t.Logf("AVX2 kernel: %v", useAVX2)
}

// TestAdamTinyProducts: a product just below 2⁻¹²⁶ that rounds up to it is
// still flushed by the FPU (tininess after rounding, unbounded exponent),
// and the scalar loop agrees: the kernel's eight lanes and the ninth,
// scalar, element end the same.
func TestAdamTinyProducts(t *testing.T) {
	c := &adamConsts{b1: 1, c1: 0, b2: 1, c2: 0, alpha: 0x1p-10, eps: 0.5}
	const n = 9
	w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range n {
		m[i] = 0x1p-116 - 0x1p-140 // alpha·m = 2⁻¹²⁶ − 2⁻¹⁵⁰, a tie that rounds up to 2⁻¹²⁶ as a subnormal
	}
	adamKernel(w, g, m, v, c)
	for i := range n {
		if math.Float32bits(w[i]) != math.Float32bits(w[0]) {
			t.Fatalf("w[%d] = %g, w[0] = %g: the scalar and vector updates differ", i, w[i], w[0])
		}
	}
	if useAVX2 && w[0] != 0 {
		t.Fatalf("w = %g, want 0 (the step is flushed)", w[0])
	}
}

// TestAdamFlushesSubnormals: a first moment decaying below 2⁻¹²⁶ becomes
// zero, not a subnormal, and subnormal weights are read as zero.
func TestAdamFlushesSubnormals(t *testing.T) {
	c := &adamConsts{b1: 0.9, c1: float32(1 - 0.9), b2: 0.999, c2: float32(1 - 0.999), alpha: 3e-5, eps: 1e-7}
	for _, n := range []int{3, 16} { // the scalar loop, and the kernel
		w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range n {
			m[i], v[i], w[i] = 1.25e-38, 1e-6, 1
		}
		w[0] = 1e-40
		adamKernel(w, g, m, v, c)
		for i := range n {
			if m[i] != 0 || math.Signbit(float64(m[i])) {
				t.Fatalf("n=%d: m[%d] = %g, want +0 (0.9 × 1.25e-38 is subnormal)", n, i, m[i])
			}
		}
		if w[0] != 0 {
			t.Fatalf("n=%d: w[0] = %g, want 0 (a subnormal weight read as zero, moved by 0)", n, w[0])
		}
	}
}

func TestReluHelpers(t *testing.T) {
	nan := float32(math.NaN())
	in := []float32{-2, -0.0, 0, 1e-38, 3, float32(math.Inf(1)), float32(math.Inf(-1)), -1e-45, nan}
	in[1] = float32(math.Copysign(0, -1))
	y := append([]float32(nil), in...)
	reluInPlace(y)
	want := []float32{0, 0, 0, 1e-38, 3, float32(math.Inf(1)), 0, 0}
	for i, w := range want {
		if math.Float32bits(y[i]) != math.Float32bits(w) {
			t.Errorf("relu(%g) = %g, want %g", in[i], y[i], w)
		}
	}
	g := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	dz := make([]float32, len(g))
	reluGrad(y[:8], g[:8], dz[:8])
	wantG := []float32{0, 0, 0, 4, 5, 6, 0, 0}
	for i, w := range wantG {
		if dz[i] != w {
			t.Errorf("reluGrad at y=%g: %g, want %g", y[i], dz[i], w)
		}
	}
}
