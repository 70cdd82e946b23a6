package model

import (
	"fmt"

	gblas "gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// net is the training graph for batches of exactly b triplet slots:
//
//	x (3b×Input) → dense+relu … → dense (3b×D) → tripletLoss → cost
//
// The three towers share weights, so anchors, positives and negatives are
// stacked into one matrix and go through one forward and one backward pass.
// Parameter nodes are bound to tensors backed by w's own slices, so the
// solver updates w in place; the input tensor is bound once and batches are
// copied into its backing slice.
type net struct {
	g      *G.ExprGraph
	x      *G.Node
	xData  []float32
	params G.Nodes // W0, b0, W1, b1, …
	grads  G.Nodes // matching gradient nodes
	embed  *G.Node
	cost   *G.Node
	st     *batchState
	vm     G.VM
	vgs    []G.ValueGrad
	b, dim int
}

// paramGrad pairs a parameter node with its gradient node for the solver.
type paramGrad struct{ p, g *G.Node }

func (pg paramGrad) Value() G.Value { return pg.p.Value() }
func (pg paramGrad) Grad() (G.Value, error) {
	if v := pg.g.Value(); v != nil {
		return v, nil
	}
	return nil, fmt.Errorf("model: no gradient computed for %v", pg.p)
}

// newTripletNet builds the triplet network for batches of b triplets, its
// matrix products by products.
func newTripletNet(w *Weights, b int, margin float32, products gblas.Float32) (n *net, err error) {
	return buildNet(w, 3*b, products, func(st *batchState) G.Op { return newTripletLossOp(b, w.OutputDim(), margin, st) })
}

// buildNet builds the network for batches of rows input rows, its matrix
// products by products, with the loss op that loss returns (which reports
// into st) on the embeddings.
func buildNet(w *Weights, rows int, products gblas.Float32, loss func(st *batchState) G.Op) (n *net, err error) {
	if err := w.Check(); err != nil {
		return nil, err
	}
	defer func() { // gorgonia panics on some graph errors
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("model: building graph: %v", r)
		}
	}()
	g := G.NewGraph()
	n = &net{g: g, st: &batchState{}, b: rows / 3, dim: w.InputDim()}
	n.xData = make([]float32, rows*n.dim)
	n.x = G.NewMatrix(g, G.Float32, G.WithShape(rows, n.dim), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(rows, n.dim), tensor.WithBacking(n.xData))))
	h := n.x
	for i := range w.Conv {
		l := &w.Conv[i]
		k := convTaps * l.In
		wn := G.NewMatrix(g, G.Float32, G.WithShape(k, l.Out), G.WithName(fmt.Sprintf("C%d", i)),
			G.WithValue(tensor.New(tensor.WithShape(k, l.Out), tensor.WithBacking(l.W))))
		bn := G.NewVector(g, G.Float32, G.WithShape(l.Out), G.WithName(fmt.Sprintf("c%d", i)),
			G.WithValue(tensor.New(tensor.WithShape(l.Out), tensor.WithBacking(l.B))))
		n.params = append(n.params, wn, bn)
		if h, err = G.ApplyOp(newConvOp(*l, rows, i > 0, products), h, wn, bn); err != nil {
			return nil, fmt.Errorf("model: conv block %d: %w", i, err)
		}
	}
	last := len(w.Layers) - 1
	for i := range w.Layers {
		l := &w.Layers[i]
		wn := G.NewMatrix(g, G.Float32, G.WithShape(l.In, l.Out), G.WithName(fmt.Sprintf("W%d", i)),
			G.WithValue(tensor.New(tensor.WithShape(l.In, l.Out), tensor.WithBacking(l.W))))
		bn := G.NewVector(g, G.Float32, G.WithShape(l.Out), G.WithName(fmt.Sprintf("b%d", i)),
			G.WithValue(tensor.New(tensor.WithShape(l.Out), tensor.WithBacking(l.B))))
		n.params = append(n.params, wn, bn)
		op := newDenseOp(rows, l.In, l.Out, i != last, i > 0 || len(w.Conv) > 0, products)
		if h, err = G.ApplyOp(op, h, wn, bn); err != nil {
			return nil, fmt.Errorf("model: layer %d: %w", i, err)
		}
	}
	n.embed = h
	if n.cost, err = G.ApplyOp(loss(n.st), h); err != nil {
		return nil, err
	}
	if n.grads, err = G.Grad(n.cost, n.params...); err != nil {
		return nil, fmt.Errorf("model: gradient: %w", err)
	}
	for i := range n.params {
		n.vgs = append(n.vgs, paramGrad{n.params[i], n.grads[i]})
	}
	n.vm = G.NewTapeMachine(g)
	return n, nil
}

// load copies triplets idx of t into the input slots, zero-fills unused
// slots, and marks how many are active.
func (n *net) load(t TripletSource, idx []int) {
	_, d := t.Shape()
	t.Gather(n.xData[:len(idx)*3*d], idx)
	clear(n.xData[len(idx)*3*d:])
	n.st.active = len(idx)
}

// run executes forward and backward for the loaded batch and returns its mean loss.
func (n *net) run() (float64, error) {
	defer n.vm.Reset()
	if err := n.vm.RunAll(); err != nil {
		return 0, err
	}
	return n.st.loss, nil
}

func (n *net) close() { n.vm.Close() }
