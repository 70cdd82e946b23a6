// Package model is the training core of the Siamese pipeline: a shared MLP
// embedding trained with a cosine triplet loss and Keras-style Adam, built on
// gorgonia with a few fused custom ops, plus a graph-free forward pass
// (Embed, Loss) for evaluation.
//
// Training graph. The three towers share weights, so a batch of B triplets
// is one (3B × Input) matrix, rows anchor, positive, negative per triplet, in
// the (N, 3, Dim) layout of Triplets. Each layer is one fused dense op
// (x·W + b, relu but for the last); the loss is one fused op with a
// hand-written gradient. The graph is built once per Train for B slots;
// batches are copied into the bound input tensor, and a partial last batch
// fills the first slots and masks the rest out of the loss (its mean is over
// the real triplets only), so the gradient is that of the partial batch. The
// first layer's input gradient is never computed. Ops own their output
// buffers, so a step allocates next to nothing.
//
// Training modes (mode.go). Fit's loop is the same for every Mode: Fixed
// trains on fixed triplets as above (Train); Mined (mined.go) trains on
// batches of P classes × K labelled images, each row one image, with the
// loss over the triplets mined inside the batch (mining.go, batch-all,
// batch-hard or semi-hard), also one fused op with a hand-written gradient.
//
// Optimiser. Adam is ours (a gorgonia Solver) with Keras's update and
// exposed state; its inner loop is an AVX2 kernel on amd64, bit-identical to
// the scalar Go reference.
//
// Determinism. Initial weights come from a PCG seeded by Config.Seed, the
// order of epoch e from a PCG seeded by (Seed, e), so a run resumed from a
// checkpoint repeats an uninterrupted one bit for bit, given the same BLAS
// implementation and thread count (OpenBLAS's results may depend on it).
//
// BLAS. Matrix products go through package blas: gonum's pure-Go routines by
// default, OpenBLAS with -tags openblas.
//
// All math is float32; losses are accumulated and reported in float64.
package model

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	gblas "gonum.org/v1/gonum/blas"

	"github.com/siamese-pipeline/siamese/blas"
)

// Config describes the network, the loss and the optimiser.
type Config struct {
	Input  int     // input dimension, 784
	Hidden []int   // layer sizes, [512, 256, 128]; the last is the embedding size
	Margin float32 // triplet margin, 0.4

	// Arch is the network: MLP ("" means it too), the dense layers of
	// Hidden on the raw input, or CNN, conv blocks of Conv channels each
	// (conv.go) on Input/Width × Width single-channel images, then the
	// dense layers of Hidden.
	Arch  string
	Conv  []int
	Width int

	LR, Beta1, Beta2, Epsilon float64 // Adam: 3e-5, 0.9, 0.999, 1e-7
	// Schedule varies the learning rate by step (schedule.go): Constant
	// (the notebook's), Cosine or OneCycle, warming up over the first
	// Warmup (a fraction) of the steps.
	Schedule string
	Warmup   float64

	Batch, Epochs, Patience int // 32, 10, 2
	// KeepLast returns the last epoch's weights instead of restoring the
	// best epoch's (by validation loss) as Keras's restore_best_weights does.
	KeepLast bool
	Seed     uint64
	// Precision is the arithmetic of training's matrix products: Float32
	// (the notebook's; "" means it too) or BF16 (operands rounded to
	// bfloat16, sums in float32, on AMX tiles where the CPU has them; see
	// blas.BF16). Weights, gradients' other arithmetic, Adam and inference
	// stay float32.
	Precision string
}

// The precisions of Config.Precision.
const (
	Float32 = "float32"
	BF16    = "bf16"
)

// Precisions lists the values of Config.Precision.
var Precisions = []string{Float32, BF16}

// DefaultConfig returns the notebook's configuration.
func DefaultConfig() Config {
	return Config{
		Input:     784,
		Hidden:    []int{512, 256, 128},
		Margin:    0.4,
		LR:        3e-5,
		Beta1:     0.9,
		Beta2:     0.999,
		Epsilon:   1e-7,
		Schedule:  Constant,
		Batch:     32,
		Epochs:    10,
		Patience:  2,
		Seed:      1,
		Precision: Float32,
	}
}

// Validate reports a configuration that cannot be trained.
func (c Config) Validate() error {
	switch {
	case c.Input <= 0:
		return fmt.Errorf("model: Input must be positive, got %d", c.Input)
	case len(c.Hidden) == 0:
		return errors.New("model: Hidden must name at least one layer")
	case c.Batch <= 0:
		return fmt.Errorf("model: Batch must be positive, got %d", c.Batch)
	case c.Epochs < 0 || c.Patience < 0:
		return fmt.Errorf("model: Epochs and Patience must not be negative")
	case !(c.LR > 0) || c.Beta1 < 0 || c.Beta1 >= 1 || c.Beta2 < 0 || c.Beta2 >= 1 || !(c.Epsilon >= 0):
		return fmt.Errorf("model: bad Adam parameters lr=%g beta1=%g beta2=%g eps=%g", c.LR, c.Beta1, c.Beta2, c.Epsilon)
	}
	if c.Arch != "" && !slices.Contains(Archs, c.Arch) {
		return fmt.Errorf("model: Arch must be one of %v, got %q", Archs, c.Arch)
	}
	if c.Arch == CNN {
		if _, _, err := c.convShapes(); err != nil {
			return err
		}
	}
	if c.Precision != "" && !slices.Contains(Precisions, c.Precision) {
		return fmt.Errorf("model: Precision must be one of %v, got %q", Precisions, c.Precision)
	}
	if err := checkSchedule(c); err != nil {
		return err
	}
	for i, h := range c.Hidden {
		if h <= 0 {
			return fmt.Errorf("model: Hidden[%d] must be positive, got %d", i, h)
		}
	}
	return nil
}

// normal returns c with the defaults its zero values stand for spelled out
// (Precision "" is Float32), so that equal configurations compare equal:
// checkpoints written before Precision existed hold "".
func (c Config) normal() Config {
	if c.Precision == "" {
		c.Precision = Float32
	}
	if c.Arch == "" {
		c.Arch = MLP
	}
	if c.Arch == MLP {
		c.Conv, c.Width = nil, 0
	}
	return c
}

// products returns the BLAS that training's matrix products use.
func (c Config) products() gblas.Float32 {
	if c.Precision == BF16 {
		return blas.BF16()
	}
	return blas.Float32()
}

// EmbeddingDim is the size of the last layer.
func (c Config) EmbeddingDim() int { return c.Hidden[len(c.Hidden)-1] }

// Layer is one dense layer: y = x·W + B, W stored In×Out row-major.
type Layer struct {
	In, Out int
	W       []float32
	B       []float32
}

// Weights are the embedding network's parameters, input layer first: the
// conv blocks (none for an MLP), then the dense layers.
type Weights struct {
	Conv   []ConvLayer
	Layers []Layer
}

// Clone returns a deep copy.
func (w *Weights) Clone() *Weights {
	c := &Weights{Layers: make([]Layer, len(w.Layers))}
	for i, l := range w.Layers {
		c.Layers[i] = Layer{In: l.In, Out: l.Out,
			W: append([]float32(nil), l.W...), B: append([]float32(nil), l.B...)}
	}
	for _, l := range w.Conv {
		l.W, l.B = append([]float32(nil), l.W...), append([]float32(nil), l.B...)
		c.Conv = append(c.Conv, l)
	}
	return c
}

// params lists every weight and bias slice, in the training graph's order
// of parameters (conv blocks' W, B, then dense layers' W, B).
func (w *Weights) params() [][]float32 {
	var p [][]float32
	for _, l := range w.Conv {
		p = append(p, l.W, l.B)
	}
	for _, l := range w.Layers {
		p = append(p, l.W, l.B)
	}
	return p
}

// CopyFrom overwrites w's values with src's; the shapes must match.
func (w *Weights) CopyFrom(src *Weights) error {
	if err := w.sameShape(src); err != nil {
		return err
	}
	dst, from := w.params(), src.params()
	for i := range dst {
		copy(dst[i], from[i])
	}
	return nil
}

func (w *Weights) sameShape(o *Weights) error {
	if len(w.Conv) != len(o.Conv) {
		return fmt.Errorf("model: %d conv blocks vs %d", len(w.Conv), len(o.Conv))
	}
	for i := range w.Conv {
		a, b := w.Conv[i], o.Conv[i]
		if a.Height != b.Height || a.Width != b.Width || a.In != b.In || a.Out != b.Out || len(a.W) != len(b.W) || len(a.B) != len(b.B) {
			return fmt.Errorf("model: conv block %d shape %dx%dx%d→%d vs %dx%dx%d→%d", i, a.Height, a.Width, a.In, a.Out, b.Height, b.Width, b.In, b.Out)
		}
	}
	if len(w.Layers) != len(o.Layers) {
		return fmt.Errorf("model: %d layers vs %d", len(w.Layers), len(o.Layers))
	}
	for i := range w.Layers {
		a, b := w.Layers[i], o.Layers[i]
		if a.In != b.In || a.Out != b.Out || len(a.W) != len(b.W) || len(a.B) != len(b.B) {
			return fmt.Errorf("model: layer %d shape %dx%d vs %dx%d", i, a.In, a.Out, b.In, b.Out)
		}
	}
	return nil
}

// Check reports weights whose slices do not match their declared shapes or
// whose layers do not chain.
func (w *Weights) Check() error {
	if len(w.Layers) == 0 {
		return errors.New("model: no layers")
	}
	for i, l := range w.Layers {
		if l.In <= 0 || l.Out <= 0 || len(l.W) != l.In*l.Out || len(l.B) != l.Out {
			return fmt.Errorf("model: layer %d: In=%d Out=%d len(W)=%d len(B)=%d", i, l.In, l.Out, len(l.W), len(l.B))
		}
		if i > 0 && w.Layers[i-1].Out != l.In {
			return fmt.Errorf("model: layer %d input %d does not match layer %d output %d", i, l.In, i-1, w.Layers[i-1].Out)
		}
	}
	for i := range w.Conv {
		l := &w.Conv[i]
		if err := l.check(i); err != nil {
			return err
		}
		if i > 0 {
			p := &w.Conv[i-1]
			if l.Height != p.Height/2 || l.Width != p.Width/2 || l.In != p.Out {
				return fmt.Errorf("model: conv block %d takes %dx%dx%d, block %d gives %dx%dx%d", i, l.Height, l.Width, l.In, i-1, p.Height/2, p.Width/2, p.Out)
			}
		}
	}
	if n := len(w.Conv); n > 0 && w.Conv[n-1].OutDim() != w.Layers[0].In {
		return fmt.Errorf("model: layer 0 takes %d inputs, the conv blocks give %d", w.Layers[0].In, w.Conv[n-1].OutDim())
	}
	return nil
}

// Equal reports whether two weight sets are bit-for-bit identical.
func (w *Weights) Equal(o *Weights) bool {
	if w.sameShape(o) != nil {
		return false
	}
	a, b := w.params(), o.params()
	for i := range a {
		for j, v := range a[i] {
			if math.Float32bits(v) != math.Float32bits(b[i][j]) {
				return false
			}
		}
	}
	return true
}

// InputDim and OutputDim are the network's input and embedding sizes.
func (w *Weights) InputDim() int {
	if len(w.Conv) > 0 {
		return w.Conv[0].InDim()
	}
	return w.Layers[0].In
}
func (w *Weights) OutputDim() int { return w.Layers[len(w.Layers)-1].Out }

// stream constants separate the PCG streams drawn from one seed.
const (
	initStream    = 0x9e3779b97f4a7c15
	shuffleStream = 0x5851f42d4c957f2d
)

// InitWeights draws glorot-uniform weights (limit sqrt(6/(fan_in+fan_out)))
// and zero biases from a PCG source seeded by cfg.Seed.
func InitWeights(cfg Config) *Weights {
	r := rand.New(rand.NewPCG(cfg.Seed, initStream))
	w := &Weights{}
	in := cfg.Input
	if cfg.Arch == CNN {
		in = initConv(cfg, r, w)
	}
	for _, out := range cfg.Hidden {
		limit := math.Sqrt(6 / float64(in+out))
		l := Layer{In: in, Out: out, W: make([]float32, in*out), B: make([]float32, out)}
		for i := range l.W {
			l.W[i] = float32((2*r.Float64() - 1) * limit)
		}
		w.Layers = append(w.Layers, l)
		in = out
	}
	return w
}

// Triplets holds N triplets of Dim floats each: rows anchor, positive,
// negative, stored row-major as (N, 3, Dim).
type Triplets struct {
	N, Dim int
	Data   []float32
}

// Check reports a Triplets whose Data does not match N and Dim.
func (t Triplets) Check() error {
	if t.N < 0 || t.Dim <= 0 || len(t.Data) != t.N*3*t.Dim {
		return fmt.Errorf("model: triplets N=%d Dim=%d but len(Data)=%d", t.N, t.Dim, len(t.Data))
	}
	return nil
}

// Slice returns triplets [i, j) sharing t's data.
func (t Triplets) Slice(i, j int) Triplets {
	return Triplets{N: j - i, Dim: t.Dim, Data: t.Data[i*3*t.Dim : j*3*t.Dim]}
}
