package model

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// minedLossOp: the mined triplet loss (minedLoss) of the n×d embeddings of
// a batch whose labels are in labels (filled by the mode before each step).
type minedLossOp struct {
	opBase
	n, d   int
	mining Mining
	margin float32
	labels []int32
	st     *batchState
	work   *minedWork
	out    *G.F32
}

func newMinedLossOp(n, d int, m Mining, margin float32, labels []int32, st *batchState) *minedLossOp {
	return &minedLossOp{opBase: newBase("minedLoss"), n: n, d: d, mining: m, margin: margin, labels: labels,
		st: st, work: &minedWork{}, out: G.NewF32(0)}
}

func (op *minedLossOp) Arity() int    { return 1 }
func (op *minedLossOp) Type() hm.Type { return hm.NewFnType(matType, tvA) }
func (op *minedLossOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}
func (op *minedLossOp) check(in []G.Value) ([]float32, error) {
	if err := op.checkArity(len(in), 1); err != nil {
		return nil, err
	}
	e, err := f32s(in[0])
	if err != nil {
		return nil, err
	}
	if len(e) != op.n*op.d || len(op.labels) != op.n {
		return nil, fmt.Errorf("model: minedLoss: %d values and %d labels, want %d×%d", len(e), len(op.labels), op.n, op.d)
	}
	return e, nil
}
func (op *minedLossOp) Do(in ...G.Value) (G.Value, error) {
	e, err := op.check(in)
	if err != nil {
		return nil, err
	}
	op.st.loss = minedLoss(e, op.labels, op.n, op.d, op.mining, op.margin, 0, nil, op.work)
	*op.out = G.F32(op.st.loss)
	return op.out, nil
}
func (op *minedLossOp) DiffWRT(int) []bool { return []bool{true} }
func (op *minedLossOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := op.checkArity(len(inputs), 1); err != nil {
		return nil, err
	}
	g := &minedLossGradOp{opBase: newBase("minedLossGrad"), loss: op, de: newMat(op.n, op.d)}
	de, err := G.ApplyOp(g, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{de}, nil
}

// minedLossGradOp: ∂minedLoss/∂E scaled by the incoming scalar gradient.
type minedLossGradOp struct {
	opBase
	loss *minedLossOp
	de   *tensor.Dense
}

func (op *minedLossGradOp) Arity() int    { return 2 }
func (op *minedLossGradOp) Type() hm.Type { return hm.NewFnType(matType, tvA, matType) }
func (op *minedLossGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.loss.n, op.loss.d}, nil
}
func (op *minedLossGradOp) Do(in ...G.Value) (G.Value, error) {
	if err := op.checkArity(len(in), 2); err != nil {
		return nil, err
	}
	e, err := op.loss.check(in[:1])
	if err != nil {
		return nil, err
	}
	g, err := scalarOf(in[1])
	if err != nil {
		return nil, err
	}
	l := op.loss
	minedLoss(e, l.labels, l.n, l.d, l.mining, l.margin, g, op.de.Float32s(), l.work)
	return op.de, nil
}
