package model

import (
	"fmt"
	"math"
	"runtime"

	G "gorgonia.org/gorgonia"

	"github.com/siamese-pipeline/siamese/internal/par"
)

// Adam is Keras's Adam, written as a gorgonia Solver so that its state can
// be saved and restored. Each Step does, per parameter, in float32:
//
//	t += 1
//	m = β1·m + (1−β1)·g
//	v = β2·v + (1−β2)·g²
//	α = lr·sqrt(1−β2^t)/(1−β1^t)      (computed in float64)
//	w -= α·m/(sqrt(v)+ε)
//
// (gorgonia's own Adam puts ε inside the bias correction and hides m, v.)
// Subnormal numbers are flushed to zero, operands and results, as
// TensorFlow's CPU kernels run (its threads set FTZ and DAZ): moments that
// decay below 2⁻¹²⁶ (the first moments of weights whose gradient stays
// zero) would otherwise cost a microcode assist in every step, 30 % of
// Adam's time on the default data.
// Parameters are identified by their position in the slice passed to Step,
// which must be the same every call.
type Adam struct {
	LR, Beta1, Beta2, Epsilon float64
	State                     AdamState
	// Workers splits the update across goroutines; 0 means GOMAXPROCS.
	// The result does not depend on it.
	Workers int
}

// AdamState is the optimiser's state: the step count and the first and
// second moments, one slice per parameter in Step's order.
type AdamState struct {
	T    int
	M, V [][]float32
}

// Clone returns a deep copy.
func (s AdamState) Clone() AdamState {
	c := AdamState{T: s.T, M: make([][]float32, len(s.M)), V: make([][]float32, len(s.V))}
	for i := range s.M {
		c.M[i] = append([]float32(nil), s.M[i]...)
	}
	for i := range s.V {
		c.V[i] = append([]float32(nil), s.V[i]...)
	}
	return c
}

// NewAdam returns an Adam with cfg's hyper-parameters and empty state.
func NewAdam(cfg Config) *Adam {
	return &Adam{LR: cfg.LR, Beta1: cfg.Beta1, Beta2: cfg.Beta2, Epsilon: cfg.Epsilon}
}

var _ G.Solver = (*Adam)(nil)

// adamChunk is the work unit of a parallel update.
const adamChunk = 1 << 14

type adamJob struct {
	w, g, m, v []float32
}

// Step applies one update to every parameter (a float32 tensor) from its gradient.
func (a *Adam) Step(model []G.ValueGrad) error {
	if len(a.State.M) == 0 && a.State.T == 0 {
		a.State.M = make([][]float32, len(model))
		a.State.V = make([][]float32, len(model))
	}
	if len(a.State.M) != len(model) || len(a.State.V) != len(model) {
		return fmt.Errorf("model: Adam state has %d parameters, Step got %d", len(a.State.M), len(model))
	}
	jobs := make([]adamJob, 0, 64)
	for i, vg := range model {
		w, err := f32s(vg.Value())
		if err != nil {
			return fmt.Errorf("model: Adam parameter %d: %w", i, err)
		}
		gv, err := vg.Grad()
		if err != nil {
			return fmt.Errorf("model: Adam gradient %d: %w", i, err)
		}
		g, err := f32s(gv)
		if err != nil {
			return fmt.Errorf("model: Adam gradient %d: %w", i, err)
		}
		if a.State.M[i] == nil && a.State.T == 0 {
			a.State.M[i] = make([]float32, len(w))
			a.State.V[i] = make([]float32, len(w))
		}
		m, v := a.State.M[i], a.State.V[i]
		if len(g) != len(w) || len(m) != len(w) || len(v) != len(w) {
			return fmt.Errorf("model: Adam parameter %d: sizes w=%d g=%d m=%d v=%d", i, len(w), len(g), len(m), len(v))
		}
		for lo := 0; lo < len(w); lo += adamChunk {
			hi := min(len(w), lo+adamChunk)
			jobs = append(jobs, adamJob{w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi]})
		}
	}
	a.State.T++
	t := float64(a.State.T)
	alpha := float32(a.LR * math.Sqrt(1-math.Pow(a.Beta2, t)) / (1 - math.Pow(a.Beta1, t)))
	c := &adamConsts{b1: float32(a.Beta1), c1: float32(1 - a.Beta1), b2: float32(a.Beta2), c2: float32(1 - a.Beta2),
		alpha: alpha, eps: float32(a.Epsilon)}
	run := func(j adamJob) { adamKernel(j.w, j.g, j.m, j.v, c) }
	workers := a.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(jobs))
	if workers <= 1 {
		for _, j := range jobs {
			run(j)
		}
		return nil
	}
	// Last parameters first: the first layer's weights, which the next
	// step's forward pass reads first, are then the freshest in cache (a
	// step 5 % faster, BenchmarkStep, four of four alternating runs). Each
	// parameter's update is independent of the others', so the order
	// changes no bit.
	par.Chunks(len(jobs), workers-1, func(i int) { run(jobs[len(jobs)-1-i]) })
	return nil
}

// adamConsts are the float32 constants of one Adam step; the layout is
// read by the assembly kernel.
type adamConsts struct {
	b1, c1, b2, c2, alpha, eps float32
}

// adamScalar is the reference update. The explicit float32 conversions
// forbid fused multiply-adds, so it matches the vector kernel bit for bit;
// like it, it reads subnormal operands as zero (daz) and writes subnormal
// results as zero (ftz).
func adamScalar(w, g, m, v []float32, c *adamConsts) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	for k := range w {
		gk := daz(g[k])
		mk := ftz(mul(c.b1, daz(m[k])) + mul(c.c1, gk))
		vk := ftz(mul(c.b2, daz(v[k])) + mul(mul(c.c2, gk), gk))
		m[k], v[k] = mk, vk
		step := div(mul(c.alpha, mk), ftz(float32(math.Sqrt(float64(vk)))+c.eps))
		w[k] = ftz(daz(w[k]) - step)
	}
}

// minNormal is the smallest normal float32, 2⁻¹²⁶.
const minNormal = 0x1p-126

// ftz returns x, or a zero of its sign if x is subnormal: what the FPU
// writes with MXCSR's flush-to-zero bit set, for sums (a sum of float32s
// that is subnormal is exact, so it is tiny before and after rounding).
func ftz(x float32) float32 {
	if x != 0 && x > -minNormal && x < minNormal {
		return float32(math.Copysign(0, float64(x)))
	}
	return x
}

// daz reads x as the FPU does with MXCSR's denormals-are-zero bit set.
func daz(x float32) float32 { return ftz(x) }

// mul and div are a·b and a/b as the FPU computes them with flush-to-zero:
// x86 calls a result tiny, and flushes it, when it is below 2⁻¹²⁶ after
// rounding to 24 bits with an unbounded exponent, so a product just below
// 2⁻¹²⁶ that rounds up to it is still flushed. The scaled result, rounded
// where float32 has its full precision, decides. (float64 holds a·b
// exactly; rounding a/b to float64 and then float32 rounds it correctly.)
func mul(a, b float32) float32 {
	if r := float32(float64(a) * float64(b) * 0x1p64); r > -0x1p-62 && r < 0x1p-62 {
		return float32(math.Copysign(0, float64(r)))
	}
	return a * b
}

func div(a, b float32) float32 {
	if r := float32(float64(a) / float64(b) * 0x1p64); r > -0x1p-62 && r < 0x1p-62 {
		return float32(math.Copysign(0, float64(r)))
	}
	return a / b
}
