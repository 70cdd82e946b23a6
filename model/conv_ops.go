package model

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	gblas "gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/siamese-pipeline/siamese/blas"
	"github.com/siamese-pipeline/siamese/internal/par"
)

// The conv block's ops in the training graph (conv.go has the arithmetic):
//
//	conv(x, W, b)     pool(relu(im2col(x)·W + b)), keeping cols and where each output's maximum is
//	convDZ(g)         ∂/∂(im2col(x)·W): g at each live maximum, 0 elsewhere
//	convDW(dz)        colsᵀ·dz
//	convDB(g)         Σ g over the live maxima of each channel
//	convDX(dz, W)     col2im(dz·Wᵀ)
//
// The backward ops read the forward op's cols, pooling codes and outputs,
// which stay as they are until the next step's forward pass.

// floats checks that op got want inputs and returns each one's float32s.
func (o *opBase) floats(in []G.Value, want int) ([][]float32, error) {
	if err := o.checkArity(len(in), want); err != nil {
		return nil, err
	}
	out := make([][]float32, want)
	for i, v := range in {
		f, err := f32s(v)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

// convOp is one conv block on rows images.
type convOp struct {
	opBase
	l       ConvLayer // shape only; the weights are the op's inputs
	rows    int
	needDX  bool
	impl    gblas.Float32
	helpers int
	s       *convScratch
	out     *tensor.Dense
}

func newConvOp(l ConvLayer, rows int, needDX bool, impl gblas.Float32) *convOp {
	l.W, l.B = nil, nil
	return &convOp{opBase: newBase("conv"), l: l, rows: rows, needDX: needDX, impl: impl,
		helpers: helpers(false), s: newConvScratch(&l, rows), out: newMat(rows, l.OutDim())}
}

func (op *convOp) Arity() int    { return 3 }
func (op *convOp) Type() hm.Type { return hm.NewFnType(matType, matType, vecType, matType) }
func (op *convOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.rows, op.l.OutDim()}, nil
}
func (op *convOp) Do(in ...G.Value) (G.Value, error) {
	v, err := op.floats(in, 3)
	if err != nil {
		return nil, err
	}
	x, w, b := v[0], v[1], v[2]
	l := op.l
	if len(x) != op.rows*l.InDim() || len(w) != convTaps*l.In*l.Out || len(b) != l.Out {
		return nil, fmt.Errorf("model: conv: sizes x=%d w=%d b=%d for %d images %dx%dx%d→%d",
			len(x), len(w), len(b), op.rows, l.Height, l.Width, l.In, l.Out)
	}
	l.W, l.B = w, b
	convForward(op.impl, &l, x, op.rows, op.s, op.out.Float32s(), op.helpers)
	return op.out, nil
}
func (op *convOp) DiffWRT(int) []bool { return []bool{op.needDX, true, true} }
func (op *convOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := op.checkArity(len(inputs), 3); err != nil {
		return nil, err
	}
	px := op.rows * op.l.pixels()
	dz, err := G.ApplyOp(&convDZOp{opBase: newBase("convDZ"), f: op, dz: newMat(px, op.l.Out)}, grad)
	if err != nil {
		return nil, err
	}
	dW, err := G.ApplyOp(&convDWOp{opBase: newBase("convDW"), f: op, dw: newMat(convTaps*op.l.In, op.l.Out)}, dz)
	if err != nil {
		return nil, err
	}
	db, err := G.ApplyOp(&convDBOp{opBase: newBase("convDB"), f: op,
		db: tensor.New(tensor.WithShape(op.l.Out), tensor.WithBacking(make([]float32, op.l.Out)))}, grad)
	if err != nil {
		return nil, err
	}
	var dx *G.Node
	if op.needDX {
		dxOp := &convDXOp{opBase: newBase("convDX"), f: op, dx: newMat(op.rows, op.l.InDim())}
		if dx, err = G.ApplyOp(dxOp, dz, inputs[1]); err != nil {
			return nil, err
		}
	}
	return G.Nodes{dx, dW, db}, nil
}

// pooledGrad returns the one input of b, a backward op of the block: the
// gradient of the block's pooled outputs, checked to be as long as them;
// and the outputs.
func (op *convOp) pooledGrad(b *opBase, in []G.Value) (g, out []float32, err error) {
	v, err := b.floats(in, 1)
	if err != nil {
		return nil, nil, err
	}
	g, out = v[0], op.out.Float32s()
	if len(g) != len(out) {
		return nil, nil, fmt.Errorf("model: %s: size %d, want %d", b.name, len(g), len(out))
	}
	return g, out, nil
}

// convDZOp scatters the pooled outputs' gradient g to the maxima they
// came from, where the ReLU let it through.
type convDZOp struct {
	opBase
	f  *convOp
	dz *tensor.Dense
}

func (op *convDZOp) Arity() int    { return 1 }
func (op *convDZOp) Type() hm.Type { return hm.NewFnType(matType, matType) }
func (op *convDZOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.f.rows * op.f.l.pixels(), op.f.l.Out}, nil
}
func (op *convDZOp) Do(in ...G.Value) (G.Value, error) {
	g, _, err := op.f.pooledGrad(&op.opBase, in)
	if err != nil {
		return nil, err
	}
	dz, per, dzPer := op.dz.Float32s(), op.f.l.OutDim(), op.f.l.pixels()*op.f.l.Out
	par.Chunks(op.f.rows, op.f.helpers, func(n int) {
		poolGrad(&op.f.l, op.f.s.arg[n*per:(n+1)*per], g[n*per:(n+1)*per], dz[n*dzPer:(n+1)*dzPer])
	})
	return op.dz, nil
}

// convDBOp: db[c] = Σ g over the outputs of channel c the ReLU let through,
// summed in the order of the outputs.
type convDBOp struct {
	opBase
	f  *convOp
	db *tensor.Dense
}

func (op *convDBOp) Arity() int    { return 1 }
func (op *convDBOp) Type() hm.Type { return hm.NewFnType(matType, vecType) }
func (op *convDBOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.f.l.Out}, nil
}

// Do sums each channel on its own: the channels are split among the
// goroutines, and every channel's sum keeps the order of the outputs, so the
// split changes no bit of it.
func (op *convDBOp) Do(in ...G.Value) (G.Value, error) {
	g, out, err := op.f.pooledGrad(&op.opBase, in)
	if err != nil {
		return nil, err
	}
	db, c := op.db.Float32s(), op.f.l.Out
	parts := min(c, op.f.helpers+1)
	par.Chunks(parts, op.f.helpers, func(t int) {
		c0, c1 := c*t/parts, c*(t+1)/parts
		liveSums(g, out, c, c0, db[c0:c1])
	})
	return op.db, nil
}

// liveSums writes into db the sums of channels c0… (len(db) of them) of g,
// rows of c channels, over the rows where out is positive, in row order
// (liveSumsGo's loop, eight channels at a time where the CPU has AVX2).
// The sums are kept in a local slice, so that goroutines summing
// neighbouring channels never write one cache line in the loop.
func liveSums(g, out []float32, c, c0 int, db []float32) {
	acc := make([]float32, len(db))
	if rows := len(g) / c; rows > 0 && len(acc) > 0 {
		liveSumsRows(g[c0:], out[c0:], c, rows, acc)
	}
	copy(db, acc)
}

// liveSumsGo adds to acc[from:] channels from… of rows rows of g (c apart)
// where out is positive. An output the ReLU cut adds +0 instead of a
// branch: a sum that starts at +0 is never −0, so adding +0 leaves every
// bit of it as it is.
func liveSumsGo(g, out []float32, c, rows int, acc []float32, from int) {
	for r := range rows {
		gr, or := g[r*c:r*c+len(acc)], out[r*c:r*c+len(acc)]
		for j := from; j < len(acc); j++ {
			acc[j] += math.Float32frombits(math.Float32bits(gr[j]) & maskIf(or[j] > 0))
		}
	}
}

// convDWOp: dW = colsᵀ·dz.
type convDWOp struct {
	opBase
	f  *convOp
	dw *tensor.Dense
}

func (op *convDWOp) Arity() int    { return 1 }
func (op *convDWOp) Type() hm.Type { return hm.NewFnType(matType, matType) }
func (op *convDWOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{convTaps * op.f.l.In, op.f.l.Out}, nil
}
func (op *convDWOp) Do(in ...G.Value) (G.Value, error) {
	v, err := op.floats(in, 1)
	if err != nil {
		return nil, err
	}
	dz := v[0]
	l, px := op.f.l, op.f.rows*op.f.l.pixels()
	k := convTaps * l.In
	if len(dz) != px*l.Out {
		return nil, fmt.Errorf("model: convDW: size %d, want %d", len(dz), px*l.Out)
	}
	op.f.impl.Sgemm(gblas.Trans, gblas.NoTrans, k, l.Out, px, 1, op.f.s.cols, k, dz, l.Out, 0, op.dw.Float32s(), l.Out)
	return op.dw, nil
}

// convDXOp: dx = col2im(dz·Wᵀ).
type convDXOp struct {
	opBase
	f     *convOp
	dcols []float32 // dz·Wᵀ, where the product is whole
	bufs  chunkBufs // a chunk's dz·Wᵀ each, where it is computed a chunk at a time
	wt    []float32 // Wᵀ (Out × 9·In), for the chunks' products
	dx    *tensor.Dense
}

func (op *convDXOp) Arity() int    { return 2 }
func (op *convDXOp) Type() hm.Type { return hm.NewFnType(matType, matType, matType) }
func (op *convDXOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.f.rows, op.f.l.InDim()}, nil
}

// Do runs a chunk of images at a time on each goroutine where the products
// split by rows, as convForward does (chunks); otherwise the product and
// col2im each run on the whole batch. A row of dz·Wᵀ is the same sums
// either way.
func (op *convDXOp) Do(in ...G.Value) (G.Value, error) {
	v, err := op.floats(in, 2)
	if err != nil {
		return nil, err
	}
	dz, w := v[0], v[1]
	l, px := op.f.l, op.f.rows*op.f.l.pixels()
	k := convTaps * l.In
	if len(dz) != px*l.Out || len(w) != k*l.Out {
		return nil, fmt.Errorf("model: convDX: sizes dz=%d w=%d, want %d and %d", len(dz), len(w), px*l.Out, k*l.Out)
	}
	if serial, ok := blas.SerialOf(op.f.impl); ok && op.f.helpers > 0 {
		op.chunks(serial, dz, w)
		return op.dx, nil
	}
	if op.dcols == nil {
		op.dcols = make([]float32, px*k)
	}
	op.f.impl.Sgemm(gblas.NoTrans, gblas.Trans, px, k, l.Out, 1, dz, l.Out, w, l.Out, 0, op.dcols, k)
	dx, per := op.dx.Float32s(), l.pixels()*k
	par.Chunks(op.f.rows, op.f.helpers, func(n int) {
		col2im(&l, op.dcols[n*per:(n+1)*per], dx[n*l.InDim():(n+1)*l.InDim()])
	})
	return op.dx, nil
}

// chunks is Do a chunk of images at a time on each goroutine: the chunk's
// rows of dz·Wᵀ (serial's product), then col2im of them while they are in
// the core's cache. Wᵀ is written out once, so that the products read it in
// place instead of each packing W's columns.
func (op *convDXOp) chunks(serial gblas.Float32, dz, w []float32) {
	l, px := op.f.l, op.f.l.pixels()
	k, dx := convTaps*l.In, op.dx.Float32s()
	per, imgs := px*k, chunkImages(&l)
	if op.bufs == nil {
		op.bufs = newChunkBufs(op.f.helpers+1, imgs*per)
		op.wt = make([]float32, k*l.Out)
	}
	transpose(w, k, l.Out, op.wt)
	par.Chunks((op.f.rows+imgs-1)/imgs, op.f.helpers, func(c int) {
		n0, n1 := c*imgs, min((c+1)*imgs, op.f.rows)
		dcols := <-op.bufs
		defer func() { op.bufs <- dcols }()
		mulRows(serial, (n1-n0)*px, k, l.Out, dz[n0*px*l.Out:n1*px*l.Out], op.wt, dcols)
		for n := n0; n < n1; n++ {
			col2im(&l, dcols[(n-n0)*per:(n-n0+1)*per], dx[n*l.InDim():(n+1)*l.InDim()])
		}
	})
}

// transpose writes the transpose of a (rows × cols, row-major) into t.
func transpose(a []float32, rows, cols int, t []float32) {
	for i := range rows {
		for j, v := range a[i*cols : (i+1)*cols] {
			t[j*rows+i] = v
		}
	}
}
