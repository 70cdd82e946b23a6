package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"

	gblas "gonum.org/v1/gonum/blas"

	"github.com/siamese-pipeline/siamese/blas"
)

// cnnConfig is a CNN on h×w images with conv channels conv and dense
// layers hidden.
func cnnConfig(h, w int, conv []int, hidden ...int) Config {
	c := smallConfig(h*w, hidden...)
	c.Arch, c.Conv, c.Width = CNN, conv, w
	return c
}

// directConv is the conv blocks and dense layers by their definition, in
// float64: a 3×3 convolution with zero padding, ReLU, 2×2 max-pooling,
// then the dense layers (ReLU but for the last).
func directEmbed(w *Weights, x []float32) []float64 {
	cur := make([]float64, len(x))
	for i, v := range x {
		cur[i] = float64(v)
	}
	for _, l := range w.Conv {
		h, wd := l.Height, l.Width
		act := make([]float64, h*wd*l.Out)
		for i := range h {
			for j := range wd {
				for o := range l.Out {
					s := float64(l.B[o])
					for ky := range 3 {
						for kx := range 3 {
							yy, xx := i+ky-1, j+kx-1
							if yy < 0 || yy >= h || xx < 0 || xx >= wd {
								continue
							}
							for c := range l.In {
								s += cur[(yy*wd+xx)*l.In+c] * float64(l.W[((ky*3+kx)*l.In+c)*l.Out+o])
							}
						}
					}
					act[(i*wd+j)*l.Out+o] = math.Max(s, 0)
				}
			}
		}
		ph, pw := h/2, wd/2
		next := make([]float64, ph*pw*l.Out)
		for i := range ph {
			for j := range pw {
				for o := range l.Out {
					m := math.Inf(-1)
					for _, d := range [][2]int{{0, 0}, {0, 1}, {1, 0}, {1, 1}} {
						m = math.Max(m, act[((2*i+d[0])*wd+2*j+d[1])*l.Out+o])
					}
					next[(i*pw+j)*l.Out+o] = m
				}
			}
		}
		cur = next
	}
	for i, l := range w.Layers {
		next := make([]float64, l.Out)
		for o := range l.Out {
			s := float64(l.B[o])
			for k := range l.In {
				s += cur[k] * float64(l.W[k*l.Out+o])
			}
			if i < len(w.Layers)-1 {
				s = math.Max(s, 0)
			}
			next[o] = s
		}
		cur = next
	}
	return cur
}

// randomBiases gives every layer non-zero biases, so that no embedding is
// exactly zero and no pooled maximum sits exactly at the ReLU's kink.
func randomBiases(w *Weights, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 9))
	for i := range w.Conv {
		copy(w.Conv[i].B, randFloats(r, len(w.Conv[i].B), 0.1))
	}
	for i := range w.Layers {
		copy(w.Layers[i].B, randFloats(r, len(w.Layers[i].B), 0.1))
	}
}

// TestCNNEmbedMatchesDefinition: Embed (im2col on the packed products,
// pooling with the bias and ReLU after the maximum) equals the network by
// its definition, at odd and even sizes and in chunks.
func TestCNNEmbedMatchesDefinition(t *testing.T) {
	for _, tc := range []struct {
		h, w int
		conv []int
		n    int
	}{
		{4, 4, []int{3}, 3},
		{7, 5, []int{2, 3}, 4},  // odd sides: the last row and column are dropped
		{9, 12, []int{4, 2}, 2}, // not square
		{28, 28, []int{8, 16}, 200},
	} {
		t.Run(fmt.Sprintf("%dx%d %v", tc.h, tc.w, tc.conv), func(t *testing.T) {
			cfg := cnnConfig(tc.h, tc.w, tc.conv, 6, 3)
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			w := InitWeights(cfg)
			randomBiases(w, 3)
			if err := w.Check(); err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(5, 1))
			x := randFloats(r, tc.n*cfg.Input, 1)
			got := Embed(w, x, tc.n)
			for i := range tc.n {
				want := directEmbed(w, x[i*cfg.Input:(i+1)*cfg.Input])
				for k, v := range want {
					if g := float64(got[i*len(want)+k]); math.Abs(g-v) > 1e-4*(1+math.Abs(v)) {
						t.Fatalf("image %d output %d: %g, by definition %g", i, k, g, v)
					}
				}
			}
		})
	}
}

// graphGrads runs the triplet graph (products by products) on tr in one
// batch of b slots and returns a copy of every parameter's gradient, in
// Weights.params order, and the loss.
func graphGrads(t *testing.T, w *Weights, tr Triplets, b int, margin float32, products gblas.Float32) ([][]float32, float64) {
	t.Helper()
	n, err := newTripletNet(w, b, margin, products)
	if err != nil {
		t.Fatal(err)
	}
	defer n.close()
	idx := make([]int, tr.N)
	for i := range idx {
		idx[i] = i
	}
	n.load(tr, idx)
	loss, err := n.run()
	if err != nil {
		t.Fatal(err)
	}
	var g [][]float32
	for _, vg := range n.vgs {
		v, err := vg.Grad()
		if err != nil {
			t.Fatal(err)
		}
		g = append(g, append([]float32(nil), v.Data().([]float32)...))
	}
	return g, loss
}

// TestCNNNetworkGradient checks the graph's gradients of every conv and
// dense parameter against central differences of Loss (Embed, no graph),
// with full and partial batches.
func TestCNNNetworkGradient(t *testing.T) {
	for _, tc := range []struct {
		name   string
		h, w   int
		conv   []int
		n, b   int
		margin float32
		blank  bool // zero all but the first rows: pooling windows of equal values
	}{
		{"one block", 4, 4, []int{3}, 3, 3, 1.5, false},
		{"two blocks, odd sides, partial batch", 7, 5, []int{2, 3}, 3, 4, 1.5, false},
		{"margin 0.4", 6, 6, []int{2, 2}, 4, 4, 0.4, false},
		{"blank background", 16, 16, []int{2, 3}, 4, 4, 1.5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := cnnConfig(tc.h, tc.w, tc.conv, 5, 3)
			cfg.Seed = 11
			w := InitWeights(cfg)
			randomBiases(w, 4)
			tr := randTriplets(8, tc.n, cfg.Input)
			if tc.blank {
				for i := range 3 * tc.n {
					clear(tr.Data[i*cfg.Input+2*tc.w : (i+1)*cfg.Input])
				}
				for _, l := range w.Conv { // the ties' maxima live
					for k, v := range l.B {
						l.B[k] = 0.3 + float32(math.Abs(float64(v)))
					}
				}
			}
			grads, loss := graphGrads(t, w, tr, tc.b, tc.margin, blas.Float32())
			if want := Loss(w, tr, tc.margin); math.Abs(loss-want) > 1e-6 {
				t.Fatalf("graph loss %g, Loss %g", loss, want)
			}
			params := w.params()
			if len(params) != len(grads) {
				t.Fatalf("%d parameters, %d gradients", len(params), len(grads))
			}
			for pi, p := range params {
				checkCentralDifferences(t, fmt.Sprintf("parameter %d", pi), p, grads[pi], func() float64 { return Loss(w, tr, tc.margin) })
			}
		})
	}
}

// TestCNNGradientsIndependentOfGoroutines: the graph's loss and gradients
// are the same bits whether the conv blocks run on one goroutine, each loop
// on the whole batch, or a chunk of images at a time on several, with
// chunks of several images (the last one partial) and of one image whose
// rows take several products, and with tied pooling windows.
func TestCNNGradientsIndependentOfGoroutines(t *testing.T) {
	for _, tc := range []struct {
		name string
		h, w int
		conv []int
		b    int
	}{
		{"chunks of several images", 7, 9, []int{3, 5}, 7},
		{"chunks of one image", 28, 28, []int{8, 16}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := cnnConfig(tc.h, tc.w, tc.conv, 8, 4)
			w := InitWeights(cfg)
			randomBiases(w, 6)
			tr := randTriplets(9, tc.b, cfg.Input)
			for i, v := range tr.Data { // zeros and halves: ties in the pooling windows
				tr.Data[i] = float32(math.Round(max(float64(v), 0)*2) / 2)
			}
			var want [][]float32
			var wantLoss float64
			for _, procs := range []int{1, 3} {
				prev := runtime.GOMAXPROCS(procs)
				grads, loss := graphGrads(t, w, tr, tc.b, 0.5, blas.Float32())
				runtime.GOMAXPROCS(prev)
				if want == nil {
					want, wantLoss = grads, loss
					continue
				}
				if loss != wantLoss {
					t.Fatalf("GOMAXPROCS=%d: loss %v, on one goroutine %v", procs, loss, wantLoss)
				}
				for i := range want {
					sameBits(t, fmt.Sprintf("GOMAXPROCS=%d: gradient %d", procs, i), grads[i], want[i])
				}
			}
		})
	}
}

// checkCentralDifferences checks gradient g of parameter p against
// central differences of loss at a few step sizes: a relu or hinge kink
// within a large step spoils it, float32 rounding spoils a small one; one
// of them must agree.
func checkCentralDifferences(t *testing.T, name string, p, g []float32, loss func() float64) {
	t.Helper()
	for k := range p {
		old := p[k]
		var fds []float64
		ok := false
		for _, h := range []float32{2e-3, 5e-4, 1e-4} {
			p[k] = old + h
			hp := float64(p[k] - old)
			lp := loss()
			p[k] = old - h
			hm := float64(old - p[k])
			lm := loss()
			p[k] = old
			fd := (lp - lm) / (hp + hm)
			fds = append(fds, fd)
			if math.Abs(fd-float64(g[k])) <= 1e-4+2e-2*math.Abs(fd)+1e-7/float64(h) {
				ok = true
				break
			}
		}
		if !ok {
			t.Errorf("%s[%d]: grad %g, finite differences %g", name, k, g[k], fds)
		}
	}
}

// TestCNNMinedResumeIsBitIdentical: a CNN trained on mined batches,
// interrupted mid-epoch and resumed from its checkpoint, ends with the
// uninterrupted run's weights bit for bit; an MLP's checkpoint in the same
// directory is not resumed as a CNN.
func TestCNNMinedResumeIsBitIdentical(t *testing.T) {
	cfg := cnnConfig(6, 6, []int{3, 4}, 8, 4)
	cfg.Epochs, cfg.Patience, cfg.LR, cfg.Seed, cfg.Schedule = 4, 10, 3e-3, 5, OneCycle
	im := classImages(4, 120, cfg.Input, 4)
	val := classTriplets(12, im)
	mode := func() Mode { return Mined(im, Batches{Mining: BatchAll, Classes: 3, PerClass: 4, Mirror: 6}) }
	full, err := Fit(context.Background(), cfg, mode(), val, TrainOptions{CheckpointDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Best.Conv) != 2 {
		t.Fatalf("trained %d conv blocks, want 2", len(full.Best.Conv))
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	epochs := 0
	_, err = Fit(ctx, cfg, mode(), val, TrainOptions{CheckpointDir: dir,
		OnEpoch: func(EpochStats) { epochs++ },
		OnBatch: func(b, _ int, _ float64) {
			if epochs == 2 && b == 3 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err = %v", err)
	}
	resumed, err := Fit(context.Background(), cfg, mode(), val, TrainOptions{CheckpointDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !resumed.Resumed || !resumed.Best.Equal(full.Best) {
		t.Fatalf("resumed=%v; the resumed run's weights differ from the uninterrupted run's", resumed.Resumed)
	}
	for i := range full.History {
		if a, b := full.History[i], resumed.History[i]; a.Loss != b.Loss || a.ValLoss != b.ValLoss {
			t.Fatalf("epoch %d: %+v vs %+v", i+1, a, b)
		}
	}
	mlp := cfg
	mlp.Arch, mlp.Conv, mlp.Width = MLP, nil, 0
	other, err := Fit(context.Background(), mlp, mode(), val, TrainOptions{CheckpointDir: dir})
	if err != nil || other.Resumed || len(other.Best.Conv) != 0 {
		t.Fatalf("an MLP on the CNN's checkpoint: err=%v resumed=%v", err, other.Resumed)
	}
}

// TestCNNLearns: a few epochs of mined batches bring the validation loss
// well below the initial one on separable classes.
func TestCNNLearns(t *testing.T) {
	cfg := cnnConfig(8, 8, []int{4, 8}, 16, 8)
	cfg.Epochs, cfg.Patience, cfg.LR, cfg.Margin, cfg.KeepLast = 6, 10, 3e-3, 0.2, true
	im := classImages(7, 300, cfg.Input, 5)
	val := classTriplets(60, im)
	before := Loss(InitWeights(cfg), val, cfg.Margin)
	res, err := Fit(context.Background(), cfg, Mined(im, Batches{Mining: BatchAll, Classes: 5, PerClass: 6}), val, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	after := Loss(res.Best, val, cfg.Margin)
	if !(after < 0.5*before) {
		t.Fatalf("validation loss %g after training, %g before", after, before)
	}
}

func TestCNNConfigRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"width not dividing the input", cnnConfig(5, 5, []int{2}, 3)},
		{"no conv blocks", cnnConfig(4, 4, nil, 3)},
		{"zero channels", cnnConfig(4, 4, []int{0}, 3)},
		{"too small to pool twice", cnnConfig(3, 3, []int{2, 2}, 3)},
		{"unknown arch", func() Config { c := smallConfig(4, 3); c.Arch = "rnn"; return c }()},
	} {
		cfg := tc.cfg
		if tc.name == "width not dividing the input" {
			cfg.Width = 4
		}
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", tc.name, cfg)
		}
	}
	if err := cnnConfig(3, 2, []int{2}, 3).Validate(); err != nil {
		t.Errorf("3x2 images, one block: %v", err)
	}
}

// TestMLPConfigIgnoresConv: an MLP's Conv and Width, and an unset Arch,
// change neither its weights nor which checkpoints it resumes.
func TestMLPConfigIgnoresConv(t *testing.T) {
	a := smallConfig(6, 4, 3)
	b := a
	b.Arch, b.Conv, b.Width = MLP, []int{8}, 3
	if !InitWeights(a).Equal(InitWeights(b)) || !reflect.DeepEqual(a.normal(), b.normal()) {
		t.Fatal("an MLP's Conv and Width changed its weights or its checkpoint's config")
	}
}

// poolByMax is the pooling and its gradient as computed from the
// pre-activation itself: each output is max(max(a, b)+bias, max(d, e)+bias,
// 0), and its gradient goes to the first of the window's values equal to
// max(a, b, d, e) where the output is positive. pool's codes must send every
// gradient where this rule does.
func poolByMax(l *ConvLayer, y, g []float32) (out, dz []float32) {
	w, c := l.Width, l.Out
	pw := l.Width / 2
	out, dz = make([]float32, l.OutDim()), make([]float32, l.pixels()*c)
	for i := range l.Height / 2 {
		for j := range pw {
			p := [4]int{(2*i*w + 2*j) * c, (2*i*w + 2*j + 1) * c, ((2*i+1)*w + 2*j) * c, ((2*i+1)*w + 2*j + 1) * c}
			for ch := range c {
				a, b, d, e := y[p[0]+ch], y[p[1]+ch], y[p[2]+ch], y[p[3]+ch]
				k := (i*pw+j)*c + ch
				out[k] = max(max(a, b)+l.B[ch], max(d, e)+l.B[ch], 0)
				if !(out[k] > 0) {
					continue
				}
				m := max(a, b, d, e)
				for q, v := range [4]float32{a, b, d, e} {
					if v == m {
						dz[p[q]+ch] = g[k]
						break
					}
				}
			}
		}
	}
	return out, dz
}

// TestPoolCodesMatchRecomputedMax: pool's outputs and poolGrad's gradients,
// through the vector loops and through the Go loops alone, are poolByMax's
// bit for bit, at odd and even sizes, channel counts around the vector
// width, with ties (equal values, −0 against +0) and non-finite values.
func TestPoolCodesMatchRecomputedMax(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	for _, tc := range []struct {
		name   string
		h, w   int
		values []float32 // drawn from; normal values where empty
	}{
		{"normal 2x2", 2, 2, nil},
		{"normal odd 5x7", 5, 7, nil},
		{"ties 6x4", 6, 4, []float32{-1, negZero, 0, 0.5, 0.5, 1}},
		{"ties odd 7x3", 7, 3, []float32{-0.5, negZero, 0, 0.25, 2}},
		{"non-finite 4x6", 4, 6, []float32{-inf, -1, negZero, 0, 1, inf, nan}},
	} {
		for _, c := range []int{1, 3, 8, 13, 32} {
			t.Run(fmt.Sprintf("%s c=%d", tc.name, c), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(c), 77))
				l := ConvLayer{Height: tc.h, Width: tc.w, In: 1, Out: c, B: randFloats(r, c, 0.5)}
				l.B[0] = 0
				y := randFloats(r, l.pixels()*c, 1)
				if tc.values != nil {
					for i := range y {
						y[i] = tc.values[r.IntN(len(tc.values))]
					}
				}
				g := randFloats(r, l.OutDim(), 1)
				wantOut, wantDZ := poolByMax(&l, y, g)

				out, arg, dz := make([]float32, l.OutDim()), make([]uint8, l.OutDim()), make([]float32, l.pixels()*c)
				pool(&l, y, out, arg)
				poolGrad(&l, arg, g, dz)
				sameBits(t, "pool", out, wantOut)
				sameBits(t, "poolGrad", dz, wantDZ)

				// The Go loops alone, as on CPUs without AVX2.
				clear(out)
				clear(arg)
				row := (tc.w / 2) * c
				for i := range tc.h / 2 {
					poolRowGo(y[2*i*tc.w*c:], y[(2*i+1)*tc.w*c:], l.B, out[i*row:(i+1)*row], arg[i*row:(i+1)*row], 0)
				}
				dz = make([]float32, l.pixels()*c)
				for i := range tc.h / 2 {
					poolGradRowGo(arg[i*row:(i+1)*row], g[i*row:(i+1)*row], dz[2*i*tc.w*c:], dz[(2*i+1)*tc.w*c:], c, 0)
				}
				sameBits(t, "poolRowGo", out, wantOut)
				sameBits(t, "poolGradRowGo", dz, wantDZ)
			})
		}
	}
}

// sameBits fails t unless got and want hold the same bits (any NaN matches
// any NaN: its payload is the CPU's business).
func sameBits(t *testing.T, name string, got, want []float32) {
	t.Helper()
	for i := range want {
		g, w := got[i], want[i]
		if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
			t.Fatalf("%s[%d] = %v (%#x), want %v (%#x)", name, i, g, math.Float32bits(g), w, math.Float32bits(w))
		}
	}
}

// TestLiveSumsMatchBranches: convDB's sums, split among goroutines by
// channels and through the vector loops, are those of the loop that adds g
// only where the output is positive, bit for bit, with −0s in g, NaNs and
// infinities in g where the output is cut, and NaN outputs.
func TestLiveSumsMatchBranches(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	for _, c := range []int{1, 3, 8, 13, 32, 64} {
		for _, parts := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("c=%d parts=%d", c, parts), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(c), uint64(parts)))
				rows := 37
				g, out := randFloats(r, rows*c, 1), make([]float32, rows*c)
				for i := range g {
					switch r.IntN(4) {
					case 0:
						out[i] = 0
					case 1:
						out[i] = nan
					default:
						out[i] = float32(r.Float64())
					}
					switch {
					case r.IntN(8) == 0:
						g[i] = negZero
					case !(out[i] > 0) && r.IntN(2) == 0:
						g[i] = []float32{inf, -inf, nan}[r.IntN(3)]
					}
				}
				want := make([]float32, c)
				for i := range g {
					if out[i] > 0 {
						want[i%c] += g[i]
					}
				}
				got := make([]float32, c)
				for p := range parts {
					c0, c1 := c*p/parts, c*(p+1)/parts
					liveSums(g, out, c, c0, got[c0:c1])
				}
				sameBits(t, "liveSums", got, want)
			})
		}
	}
}
