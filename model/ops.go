package model

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	gblas "gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The training graph is made of a handful of fused ops written for it:
//
//	dense(x, W, b)         act(x·W + b), act = relu or identity
//	tripletLoss(E)         mean masked triplet loss of E (3B×D) → scalar
//	tripletLossGrad(E, g)  ∂loss/∂E · g
//	reluGrad(y, g)         g where y > 0
//	gemm(A, B)             op(A)·op(B) for dW = xᵀ·dz and dx = dz·Wᵀ
//	colSum(dz)             db
//
// Each op owns its output buffer (allocated once, when the graph is built)
// and returns it from Do, so a step allocates nothing; every op instance
// has a unique id in its hash so gorgonia never merges two of them.

var opSeq atomic.Uint64

type opBase struct {
	id   uint64
	name string
}

func newBase(name string) opBase { return opBase{id: opSeq.Add(1), name: name} }

func (o *opBase) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s#%d", o.name, o.id) }
func (o *opBase) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}
func (o *opBase) String() string       { return o.name }
func (o *opBase) ReturnsPtr() bool     { return false }
func (o *opBase) CallsExtern() bool    { return false }
func (o *opBase) OverwritesInput() int { return -1 }
func (o *opBase) checkArity(n, want int) error {
	if n != want {
		return fmt.Errorf("model: op %s wants %d inputs, got %d", o.name, want, n)
	}
	return nil
}

var (
	tvA     = hm.TypeVariable('a')
	matType = G.TensorType{Dims: 2, Of: tvA}
	vecType = G.TensorType{Dims: 1, Of: tvA}
)

func f32s(v G.Value) ([]float32, error) {
	if d, ok := v.(*tensor.Dense); ok && d.Dtype() == tensor.Float32 {
		return d.Float32s(), nil
	}
	return nil, fmt.Errorf("model: expected a float32 *tensor.Dense, got %T", v)
}

func scalarOf(v G.Value) (float64, error) {
	switch s := v.(type) {
	case *G.F32:
		return float64(*s), nil
	case *G.F64:
		return float64(*s), nil
	case *tensor.Dense:
		if s.Dtype() == tensor.Float32 && s.Size() == 1 {
			return float64(s.Float32s()[0]), nil
		}
	}
	return 0, fmt.Errorf("model: expected a float32 scalar, got %T", v)
}

func newMat(rows, cols int) *tensor.Dense {
	return tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(make([]float32, rows*cols)))
}

// denseOp: y = act(x·W + b).
type denseOp struct {
	opBase
	rows, in, out int
	relu, needDX  bool
	impl          gblas.Float32
	y             *tensor.Dense
}

func newDenseOp(rows, in, out int, relu, needDX bool, impl gblas.Float32) *denseOp {
	name := "dense"
	if relu {
		name = "denseReLU"
	}
	return &denseOp{opBase: newBase(name), rows: rows, in: in, out: out, relu: relu, needDX: needDX,
		impl: impl, y: newMat(rows, out)}
}

func (op *denseOp) Arity() int    { return 3 }
func (op *denseOp) Type() hm.Type { return hm.NewFnType(matType, matType, vecType, matType) }
func (op *denseOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.rows, op.out}, nil
}
func (op *denseOp) Do(in ...G.Value) (G.Value, error) {
	if err := op.checkArity(len(in), 3); err != nil {
		return nil, err
	}
	x, err := f32s(in[0])
	if err != nil {
		return nil, err
	}
	w, err := f32s(in[1])
	if err != nil {
		return nil, err
	}
	b, err := f32s(in[2])
	if err != nil {
		return nil, err
	}
	if len(x) != op.rows*op.in || len(w) != op.in*op.out || len(b) != op.out {
		return nil, fmt.Errorf("model: %s: sizes x=%d w=%d b=%d for %dx%d→%d", op.name, len(x), len(w), len(b), op.rows, op.in, op.out)
	}
	denseForward(op.impl, x, op.rows, op.in, op.out, w, b, op.relu, op.y.Float32s())
	return op.y, nil
}
func (op *denseOp) DiffWRT(int) []bool { return []bool{op.needDX, true, true} }
func (op *denseOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := op.checkArity(len(inputs), 3); err != nil {
		return nil, err
	}
	dz := grad
	var err error
	if op.relu {
		if dz, err = G.ApplyOp(newReluGradOp(op.rows, op.out), output, grad); err != nil {
			return nil, err
		}
	}
	// dW = xᵀ·dz (in×out)
	dW, err := G.ApplyOp(newGemmOp(true, false, op.in, op.out, op.rows, op.impl), inputs[0], dz)
	if err != nil {
		return nil, err
	}
	db, err := G.ApplyOp(newColSumOp(op.rows, op.out), dz)
	if err != nil {
		return nil, err
	}
	var dx *G.Node
	if op.needDX {
		// dx = dz·Wᵀ (rows×in)
		if dx, err = G.ApplyOp(newGemmOp(false, true, op.rows, op.in, op.out, op.impl), dz, inputs[1]); err != nil {
			return nil, err
		}
	}
	return G.Nodes{dx, dW, db}, nil
}

// reluGradOp: dz = g where y > 0, else 0.
type reluGradOp struct {
	opBase
	rows, cols int
	dz         *tensor.Dense
}

func newReluGradOp(rows, cols int) *reluGradOp {
	return &reluGradOp{opBase: newBase("reluGrad"), rows: rows, cols: cols, dz: newMat(rows, cols)}
}
func (op *reluGradOp) Arity() int    { return 2 }
func (op *reluGradOp) Type() hm.Type { return hm.NewFnType(matType, matType, matType) }
func (op *reluGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.rows, op.cols}, nil
}
func (op *reluGradOp) Do(in ...G.Value) (G.Value, error) {
	if err := op.checkArity(len(in), 2); err != nil {
		return nil, err
	}
	y, err := f32s(in[0])
	if err != nil {
		return nil, err
	}
	g, err := f32s(in[1])
	if err != nil {
		return nil, err
	}
	dz := op.dz.Float32s()
	if len(y) != len(dz) || len(g) != len(dz) {
		return nil, fmt.Errorf("model: reluGrad: sizes %d, %d, want %d", len(y), len(g), len(dz))
	}
	reluGrad(y, g, dz)
	return op.dz, nil
}

// gemmOp: C = op(A)·op(B), C m×n, inner dimension k.
type gemmOp struct {
	opBase
	tA, tB  bool
	m, n, k int
	impl    gblas.Float32
	c       *tensor.Dense
}

func newGemmOp(tA, tB bool, m, n, k int, impl gblas.Float32) *gemmOp {
	return &gemmOp{opBase: newBase(fmt.Sprintf("gemm(%v,%v)", tA, tB)), tA: tA, tB: tB, m: m, n: n, k: k,
		impl: impl, c: newMat(m, n)}
}
func (op *gemmOp) Arity() int    { return 2 }
func (op *gemmOp) Type() hm.Type { return hm.NewFnType(matType, matType, matType) }
func (op *gemmOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.m, op.n}, nil
}
func (op *gemmOp) Do(in ...G.Value) (G.Value, error) {
	if err := op.checkArity(len(in), 2); err != nil {
		return nil, err
	}
	a, err := f32s(in[0])
	if err != nil {
		return nil, err
	}
	b, err := f32s(in[1])
	if err != nil {
		return nil, err
	}
	if len(a) != op.m*op.k || len(b) != op.k*op.n {
		return nil, fmt.Errorf("model: %s: sizes a=%d b=%d for m=%d n=%d k=%d", op.name, len(a), len(b), op.m, op.n, op.k)
	}
	ta, lda := gblas.NoTrans, op.k
	if op.tA {
		ta, lda = gblas.Trans, op.m
	}
	tb, ldb := gblas.NoTrans, op.n
	if op.tB {
		tb, ldb = gblas.Trans, op.k
	}
	op.impl.Sgemm(ta, tb, op.m, op.n, op.k, 1, a, lda, b, ldb, 0, op.c.Float32s(), op.n)
	return op.c, nil
}

// colSumOp: s[j] = Σ_r x[r, j].
type colSumOp struct {
	opBase
	rows, cols int
	s          *tensor.Dense
}

func newColSumOp(rows, cols int) *colSumOp {
	return &colSumOp{opBase: newBase("colSum"), rows: rows, cols: cols,
		s: tensor.New(tensor.WithShape(cols), tensor.WithBacking(make([]float32, cols)))}
}
func (op *colSumOp) Arity() int    { return 1 }
func (op *colSumOp) Type() hm.Type { return hm.NewFnType(matType, vecType) }
func (op *colSumOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.cols}, nil
}
func (op *colSumOp) Do(in ...G.Value) (G.Value, error) {
	if err := op.checkArity(len(in), 1); err != nil {
		return nil, err
	}
	x, err := f32s(in[0])
	if err != nil {
		return nil, err
	}
	if len(x) != op.rows*op.cols {
		return nil, fmt.Errorf("model: colSum: size %d, want %d", len(x), op.rows*op.cols)
	}
	s := op.s.Float32s()
	copy(s, x[:op.cols])
	for r := 1; r < op.rows; r++ {
		addTo(s, x[r*op.cols:(r+1)*op.cols])
	}
	return op.s, nil
}

// batchState is shared by the loss op and its gradient: how many of the
// graph's B triplet slots hold real data this step, and the loss computed.
type batchState struct {
	active int
	loss   float64 // mean over the active triplets, float64
}

// tripletLossOp: mean over the first st.active triplets of E (rows
// anchor/positive/negative, 3B×D) of max(0, cosd(a,p) − cosd(a,n) + margin).
// Slots past st.active are padding and contribute neither loss nor gradient,
// so a partial last batch gets exactly its own mean's gradient.
type tripletLossOp struct {
	opBase
	b, d   int
	margin float32
	st     *batchState
	out    *G.F32
}

func newTripletLossOp(b, d int, margin float32, st *batchState) *tripletLossOp {
	return &tripletLossOp{opBase: newBase("tripletLoss"), b: b, d: d, margin: margin, st: st, out: G.NewF32(0)}
}
func (op *tripletLossOp) Arity() int    { return 1 }
func (op *tripletLossOp) Type() hm.Type { return hm.NewFnType(matType, tvA) }
func (op *tripletLossOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}
func (op *tripletLossOp) active() (int, error) {
	if op.st.active < 1 || op.st.active > op.b {
		return 0, fmt.Errorf("model: %d active triplets in a batch of %d", op.st.active, op.b)
	}
	return op.st.active, nil
}
func (op *tripletLossOp) Do(in ...G.Value) (G.Value, error) {
	if err := op.checkArity(len(in), 1); err != nil {
		return nil, err
	}
	e, err := f32s(in[0])
	if err != nil {
		return nil, err
	}
	n, err := op.active()
	if err != nil {
		return nil, err
	}
	if len(e) != 3*op.b*op.d {
		return nil, fmt.Errorf("model: tripletLoss: size %d, want %d", len(e), 3*op.b*op.d)
	}
	op.st.loss = tripletLoss(e, op.d, n, op.margin, 0, nil) / float64(n)
	*op.out = G.F32(op.st.loss)
	return op.out, nil
}
func (op *tripletLossOp) DiffWRT(int) []bool { return []bool{true} }
func (op *tripletLossOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := op.checkArity(len(inputs), 1); err != nil {
		return nil, err
	}
	g := &tripletLossGradOp{opBase: newBase("tripletLossGrad"), loss: op, de: newMat(3*op.b, op.d)}
	de, err := G.ApplyOp(g, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{de}, nil
}

// tripletLossGradOp: ∂loss/∂E scaled by the incoming scalar gradient.
type tripletLossGradOp struct {
	opBase
	loss *tripletLossOp
	de   *tensor.Dense
}

func (op *tripletLossGradOp) Arity() int    { return 2 }
func (op *tripletLossGradOp) Type() hm.Type { return hm.NewFnType(matType, tvA, matType) }
func (op *tripletLossGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{3 * op.loss.b, op.loss.d}, nil
}
func (op *tripletLossGradOp) Do(in ...G.Value) (G.Value, error) {
	if err := op.checkArity(len(in), 2); err != nil {
		return nil, err
	}
	e, err := f32s(in[0])
	if err != nil {
		return nil, err
	}
	g, err := scalarOf(in[1])
	if err != nil {
		return nil, err
	}
	n, err := op.loss.active()
	if err != nil {
		return nil, err
	}
	de := op.de.Float32s()
	if len(e) != len(de) {
		return nil, fmt.Errorf("model: tripletLossGrad: size %d, want %d", len(e), len(de))
	}
	tripletLoss(e, op.loss.d, n, op.loss.margin, g/float64(n), de)
	clear(de[3*n*op.loss.d:]) // padding slots
	return op.de, nil
}
