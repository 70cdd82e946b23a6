package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bruteMinedLoss is minedLoss from the definitions, one triplet at a
// time, in float64: the reference the tests compare with.
func bruteMinedLoss(e []float32, y []int32, n, d int, m Mining, margin float64) float64 {
	dist := func(i, j int) float64 {
		var ij, ii, jj float64
		for k := range d {
			a, b := float64(e[i*d+k]), float64(e[j*d+k])
			ij, ii, jj = ij+a*b, ii+a*a, jj+b*b
		}
		return 1 - ij/math.Sqrt(math.Max(ii, normEps))/math.Sqrt(math.Max(jj, normEps))
	}
	var total float64
	count := 0
	for a := range n {
		var pos, neg []int
		for j := range n {
			switch {
			case j == a:
			case y[j] == y[a]:
				pos = append(pos, j)
			default:
				neg = append(neg, j)
			}
		}
		if len(neg) == 0 || len(pos) == 0 {
			continue
		}
		switch m {
		case BatchAll:
			for _, p := range pos {
				for _, q := range neg {
					if l := dist(a, p) - dist(a, q) + margin; l > 0 {
						total += l
						count++
					}
				}
			}
		case BatchHard:
			hp, hq := math.Inf(-1), math.Inf(1)
			for _, p := range pos {
				hp = math.Max(hp, dist(a, p))
			}
			for _, q := range neg {
				hq = math.Min(hq, dist(a, q))
			}
			total += math.Max(0, hp-hq+margin)
			count++
		case SemiHard:
			for _, p := range pos {
				dp := dist(a, p)
				semi, far := math.Inf(1), math.Inf(-1)
				for _, q := range neg {
					dq := dist(a, q)
					far = math.Max(far, dq)
					if dq > dp {
						semi = math.Min(semi, dq)
					}
				}
				if math.IsInf(semi, 1) {
					semi = far
				}
				total += math.Max(0, dp-semi+margin)
				count++
			}
		}
	}
	if count == 0 {
		return 0
	}
	return total / float64(count)
}

// labelled draws n embeddings of classes classes: class centres plus noise.
func labelled(seed uint64, n, d, classes int, noise float64) ([]float32, []int32) {
	r := rand.New(rand.NewPCG(seed, 5))
	centres := randFloats(r, classes*d, 1)
	e, y := make([]float32, n*d), make([]int32, n)
	for i := range n {
		y[i] = int32(i % classes)
		for k := range d {
			e[i*d+k] = centres[int(y[i])*d+k] + float32(noise*r.NormFloat64())
		}
	}
	return e, y
}

func TestMinedLossMatchesDefinition(t *testing.T) {
	for _, m := range Minings {
		for _, tc := range []struct {
			n, d, classes int
			noise, margin float64
		}{
			{12, 5, 3, 0.3, 0.2},
			{12, 5, 3, 2, 0.4},
			{20, 8, 4, 1, 1.5},
			{6, 3, 6, 1, 0.2}, // one image a class: no positives, loss 0
			{8, 4, 1, 1, 0.2}, // one class: no negatives, loss 0
		} {
			e, y := labelled(uint64(tc.n*tc.d), tc.n, tc.d, tc.classes, tc.noise)
			got := minedLoss(e, y, tc.n, tc.d, m, float32(tc.margin), 0, nil, &minedWork{})
			want := bruteMinedLoss(e, y, tc.n, tc.d, m, float64(float32(tc.margin)))
			if math.Abs(got-want) > 1e-5*max(1, math.Abs(want)) {
				t.Errorf("%s %+v: loss %g, by definition %g", m, tc, got, want)
			}
			if (tc.classes == tc.n || tc.classes == 1) && got != 0 {
				t.Errorf("%s %+v: loss %g without triplets", m, tc, got)
			}
		}
	}
}

// TestMinedLossGradient checks the hand-written gradient against central
// differences of the loss by definition, for each mining.
func TestMinedLossGradient(t *testing.T) {
	const n, d, classes = 12, 6, 3
	for _, m := range Minings {
		for _, tc := range []struct {
			noise, margin, scale float64
		}{{0.5, 0.2, 1}, {1.5, 0.4, 1}, {0.8, 1.0, -2.5}} {
			e, y := labelled(7, n, d, classes, tc.noise)
			de := make([]float32, len(e))
			minedLoss(e, y, n, d, m, float32(tc.margin), tc.scale, de, &minedWork{})
			margin := float64(float32(tc.margin))
			bad := 0
			for k := range e {
				// A mining's choice or a hinge can flip within a step: one of
				// a few step sizes must agree.
				ok := false
				var fds []float64
				for _, h := range []float32{1e-3, 1e-4, 1e-5} {
					old := e[k]
					e[k] = old + h
					hp := float64(e[k] - old)
					lp := bruteMinedLoss(e, y, n, d, m, margin)
					e[k] = old - h
					hm := float64(old - e[k])
					lm := bruteMinedLoss(e, y, n, d, m, margin)
					e[k] = old
					fd := tc.scale * (lp - lm) / (hp + hm)
					fds = append(fds, fd)
					if math.Abs(fd-float64(de[k])) <= 2e-4+1e-3*math.Abs(fd) {
						ok = true
						break
					}
				}
				if !ok {
					bad++
					t.Errorf("%s %+v: e[%d]: grad %g, finite differences %v", m, tc, k, de[k], fds)
				}
			}
		}
	}
}

// The loss op in the graph: the parameter gradients of a mined batch
// against central differences through the whole network.
func TestMinedNetworkGradient(t *testing.T) {
	for _, m := range Minings {
		t.Run(string(m), func(t *testing.T) {
			cfg := smallConfig(6, 5, 4)
			cfg.Margin = 0.5
			w := InitWeights(cfg)
			r := rand.New(rand.NewPCG(4, 9))
			for i := range w.Layers { // non-zero biases: no embedding is exactly 0
				copy(w.Layers[i].B, randFloats(r, len(w.Layers[i].B), 0.1))
			}
			x, y := labelled(3, 8, cfg.Input, 2, 1)
			mode := Mined(Images{N: 8, Dim: cfg.Input, Data: x, Labels: y}, Batches{Mining: m, Classes: 2, PerClass: 4}).(*mined)
			if err := mode.check(cfg); err != nil {
				t.Fatal(err)
			}
			n, err := mode.net(w, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer n.close()
			copy(n.xData, x)
			copy(mode.labels, y)
			loss, err := n.run()
			if err != nil {
				t.Fatal(err)
			}
			lossOf := func() float64 {
				return bruteMinedLoss(Embed(w, x, 8), y, 8, w.OutputDim(), m, float64(cfg.Margin))
			}
			base := lossOf()
			if want := base; math.Abs(loss-want) > 1e-5 {
				t.Fatalf("graph loss %g, by definition %g", loss, want)
			}
			for i := range w.Layers {
				gw, _ := n.vgs[2*i].Grad()
				gb, _ := n.vgs[2*i+1].Grad()
				for _, pg := range []struct {
					p, g []float32
				}{{w.Layers[i].W, gw.Data().([]float32)}, {w.Layers[i].B, gb.Data().([]float32)}} {
					for k := range pg.p {
						if l := lossOf(); l != base {
							t.Fatalf("layer %d param %d: loss %v changed from %v", i, k, l, base)
						}
						ok := false
						var fds []float64
						for _, h := range []float32{2e-3, 5e-4, 1e-4} {
							old := pg.p[k]
							pg.p[k] = old + h
							lp := lossOf()
							pg.p[k] = old - h
							lm := lossOf()
							pg.p[k] = old
							fd := (lp - lm) / float64(2*h)
							fds = append(fds, fd)
							if math.Abs(fd-float64(pg.g[k])) <= 1e-4+2e-2*math.Abs(fd)+1e-7/float64(h) {
								ok = true
								break
							}
						}
						if !ok {
							t.Errorf("layer %d param %d: grad %g, finite differences %v", i, k, pg.g[k], fds)
						}
					}
				}
			}
		})
	}
}
