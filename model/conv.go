package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"

	gblas "gonum.org/v1/gonum/blas"

	"github.com/siamese-pipeline/siamese/blas"
	"github.com/siamese-pipeline/siamese/internal/par"
)

// The convolutional embedding (Config.Arch "cnn"): blocks of
//
//	3×3 convolution (stride 1, zero padding 1: same height and width)
//	→ ReLU → 2×2 max-pooling (stride 2; an odd last row or column is dropped)
//
// then the dense layers of Config.Hidden on the flattened last block. Images
// are stored channels last (NHWC): one image is Height×Width×In floats,
// row-major with the channel fastest, so a block's input row is one image,
// its output (Height/2)×(Width/2)×Out floats, and the first dense layer
// reads the last block's output in that order.
//
// A convolution is one matrix product on the packed Sgemm: im2col gathers
// every output pixel's 3×3×In neighbourhood into a row of cols
// (pixels × 9·In), and cols·W (W is 9·In × Out, row (ky·3+kx)·In+c) is the
// block's pre-activation, channels last. The bias and the ReLU are applied
// after pooling (max and +b commute, as do max and ReLU), so they touch a
// quarter of the values.

// ConvLayer is one convolutional block: a 3×3 convolution of an
// Height×Width×In input to Out channels, ReLU, 2×2 max-pooling.
// W is stored (9·In)×Out row-major, row (ky·3+kx)·In + c; B has Out values.
type ConvLayer struct {
	Height, Width, In, Out int
	W                      []float32
	B                      []float32
}

// convK is the kernel's side; convTaps its number of taps.
const (
	convK    = 3
	convTaps = convK * convK
)

// InDim is the size of one input image, OutDim of one pooled output.
func (l *ConvLayer) InDim() int  { return l.Height * l.Width * l.In }
func (l *ConvLayer) OutDim() int { return (l.Height / 2) * (l.Width / 2) * l.Out }

// pixels is the number of convolution outputs per image.
func (l *ConvLayer) pixels() int { return l.Height * l.Width }

func (l *ConvLayer) check(i int) error {
	if l.Height < 2 || l.Width < 2 || l.In <= 0 || l.Out <= 0 || len(l.W) != convTaps*l.In*l.Out || len(l.B) != l.Out {
		return fmt.Errorf("model: conv layer %d: %dx%dx%d→%d, len(W)=%d len(B)=%d", i, l.Height, l.Width, l.In, l.Out, len(l.W), len(l.B))
	}
	return nil
}

// The architectures of Config.Arch.
const (
	MLP = "mlp"
	CNN = "cnn"
)

// Archs lists the values of Config.Arch.
var Archs = []string{MLP, CNN}

// convShapes returns the conv blocks' input shapes for cfg (Height, Width,
// In of each) and the size of the last block's output.
func (c Config) convShapes() (shapes [][3]int, out int, err error) {
	if c.Width <= 0 || c.Input%c.Width != 0 {
		return nil, 0, fmt.Errorf("model: cnn: images of %d pixels are not rows of Width %d", c.Input, c.Width)
	}
	h, w, in := c.Input/c.Width, c.Width, 1
	for i, ch := range c.Conv {
		if ch <= 0 {
			return nil, 0, fmt.Errorf("model: Conv[%d] must be positive, got %d", i, ch)
		}
		if h < 2 || w < 2 {
			return nil, 0, fmt.Errorf("model: cnn: conv block %d gets %dx%d images, too small to pool", i, h, w)
		}
		shapes = append(shapes, [3]int{h, w, in})
		h, w, in = h/2, w/2, ch
	}
	if len(shapes) == 0 {
		return nil, 0, fmt.Errorf("model: cnn needs at least one conv block")
	}
	return shapes, h * w * in, nil
}

// initConv draws the conv blocks' glorot-uniform weights (fan in 9·In, fan
// out 9·Out, as Keras's Conv2D) and zero biases from r, and returns the
// size of their output.
func initConv(cfg Config, r *rand.Rand, w *Weights) int {
	shapes, out, err := cfg.convShapes()
	if err != nil {
		panic(err) // InitWeights' callers validate cfg
	}
	for i, s := range shapes {
		l := ConvLayer{Height: s[0], Width: s[1], In: s[2], Out: cfg.Conv[i]}
		l.W, l.B = make([]float32, convTaps*l.In*l.Out), make([]float32, l.Out)
		limit := math.Sqrt(6 / float64(convTaps*(l.In+l.Out)))
		for j := range l.W {
			l.W[j] = float32((2*r.Float64() - 1) * limit)
		}
		w.Conv = append(w.Conv, l)
	}
	return out
}

// convScratch is one block's working memory for rows images.
type convScratch struct {
	cols []float32 // rows·pixels × 9·In
	arg  []uint8   // rows × OutDim, where each pooled output's gradient goes (see pool)
	y    []float32 // rows·pixels × Out, pre-activation without bias, where the product is whole
	ys   chunkBufs // a chunk's pre-activation each, where it is computed a chunk at a time
}

func newConvScratch(l *ConvLayer, rows int) *convScratch {
	return &convScratch{cols: make([]float32, rows*l.pixels()*convTaps*l.In), arg: make([]uint8, rows*l.OutDim())}
}

// convChunkRows is about how many pixels (rows of cols) a chunk of a block
// holds when the block runs a chunk of images at a time: a chunk's cols and
// pre-activation, or its column gradients, stay in the core's cache between
// the loops that write and read them.
const convChunkRows = 512

// chunkImages is how many images make a chunk of block l.
func chunkImages(l *ConvLayer) int { return max(1, convChunkRows/l.pixels()) }

// chunkBufs hands each goroutine working on a block's chunks a buffer of
// its own: a chunk takes one and gives it back when done.
type chunkBufs chan []float32

// newChunkBufs makes n buffers of size floats.
func newChunkBufs(n, size int) chunkBufs {
	b := make(chunkBufs, n)
	for range n {
		b <- make([]float32, size)
	}
	return b
}

// helpers is how many goroutines besides the caller the element-wise
// loops of a training step use; 0 where the caller runs alone.
func helpers(serial bool) int {
	if serial {
		return 0
	}
	return runtime.GOMAXPROCS(0) - 1
}

// convForward runs block l on rows images x (rows × InDim) into out
// (rows × OutDim), with s's scratch. The products are impl's; the
// element-wise loops run on the caller and helpers other goroutines.
//
// With helpers and impl's products split by rows (blas.SerialOf), the
// images are processed a chunk at a time, each chunk on one goroutine
// (convChunks); otherwise im2col, the product and the pooling each run on
// the whole batch. A product of some of the rows sums each element as the
// whole product does, so the outputs are the same either way.
func convForward(impl gblas.Float32, l *ConvLayer, x []float32, rows int, s *convScratch, out []float32, helpers int) {
	if serial, ok := blas.SerialOf(impl); ok && helpers > 0 {
		convChunks(serial, l, x, rows, s, out, helpers)
		return
	}
	px, k, per := l.pixels(), convTaps*l.In, l.OutDim()
	if len(s.y) < rows*px*l.Out {
		s.y = make([]float32, rows*px*l.Out)
	}
	par.Chunks(rows, helpers, func(n int) {
		im2col(l, x[n*l.InDim():(n+1)*l.InDim()], s.cols[n*px*k:(n+1)*px*k])
	})
	impl.Sgemm(gblas.NoTrans, gblas.NoTrans, rows*px, l.Out, k, 1, s.cols, k, l.W, l.Out, 0, s.y, l.Out)
	par.Chunks(rows, helpers, func(n int) {
		pool(l, s.y[n*px*l.Out:(n+1)*px*l.Out], out[n*per:(n+1)*per], s.arg[n*per:(n+1)*per])
	})
}

// convChunks is convForward a chunk of images at a time on the caller and
// helpers other goroutines: im2col, the chunk's rows of the product
// (serial's) and the pooling, while the chunk is in the core's cache.
func convChunks(serial gblas.Float32, l *ConvLayer, x []float32, rows int, s *convScratch, out []float32, helpers int) {
	px, k, per := l.pixels(), convTaps*l.In, l.OutDim()
	imgs := chunkImages(l)
	if s.ys == nil {
		s.ys = newChunkBufs(helpers+1, imgs*px*l.Out)
	}
	par.Chunks((rows+imgs-1)/imgs, helpers, func(c int) {
		n0, n1 := c*imgs, min((c+1)*imgs, rows)
		for n := n0; n < n1; n++ {
			im2col(l, x[n*l.InDim():(n+1)*l.InDim()], s.cols[n*px*k:(n+1)*px*k])
		}
		y := <-s.ys
		defer func() { s.ys <- y }()
		mulRows(serial, (n1-n0)*px, l.Out, k, s.cols[n0*px*k:n1*px*k], l.W, y)
		for n := n0; n < n1; n++ {
			pool(l, y[(n-n0)*px*l.Out:(n-n0+1)*px*l.Out], out[n*per:(n+1)*per], s.arg[n*per:(n+1)*per])
		}
	})
}

// mulRows computes c = a·b (a m×k, b k×n, c m×n, all row-major and dense)
// with serial's products, blas.InPlaceRows rows at a time: a, just written
// by the caller, is read where it is rather than packed.
func mulRows(serial gblas.Float32, m, n, k int, a, b, c []float32) {
	for r0 := 0; r0 < m; r0 += blas.InPlaceRows {
		r1 := min(r0+blas.InPlaceRows, m)
		serial.Sgemm(gblas.NoTrans, gblas.NoTrans, r1-r0, n, k, 1, a[r0*k:r1*k], k, b, n, 0, c[r0*n:r1*n], n)
	}
}

// im2col writes image x's 3×3 neighbourhoods, one row of 9·In per pixel,
// zeros outside the image. A neighbourhood's row of three taps is 3·In
// contiguous values of x (channels last), copied at once inside the image.
func im2col(l *ConvLayer, x, cols []float32) {
	h, w, c := l.Height, l.Width, l.In
	k, span := convTaps*c, convK*c
	for i := range h {
		for j := range w {
			row := cols[(i*w+j)*k : (i*w+j+1)*k]
			for ky := range convK {
				dst := row[ky*span : (ky+1)*span]
				yy := i + ky - 1
				switch {
				case yy < 0 || yy >= h:
					clear(dst)
				case j == 0:
					clear(dst[:c])
					copy(dst[c:], x[yy*w*c:(yy*w+2)*c])
				case j == w-1:
					copy(dst[:2*c], x[(yy*w+j-1)*c:(yy*w+j+1)*c])
					clear(dst[2*c:])
				case c == 1:
					src := x[yy*w+j-1 : yy*w+j+2]
					dst[0], dst[1], dst[2] = src[0], src[1], src[2]
				default:
					copy(dst, x[(yy*w+j-1)*c:(yy*w+j+2)*c])
				}
			}
		}
	}
}

// pool max-pools one image's pre-activation y (pixels × Out, without bias)
// 2×2, adds the bias and applies the ReLU into out, and writes into arg, for
// each output, where its gradient goes: the position of the first of its
// window's maxima (0 top left, 1 top right, 2 bottom left, 3 bottom right),
// or poolCut where the ReLU cut the output. The maxima are those equal to
// the window's maximum (so −0 and +0 tie); a window holding a NaN has a NaN
// output, which the ReLU cuts. Each row of windows is poolRow's.
func pool(l *ConvLayer, y, out []float32, arg []uint8) {
	w, c := l.Width, l.Out
	row := (l.Width / 2) * c
	for i := range l.Height / 2 {
		top := y[2*i*w*c:][:2*row]
		bottom := y[(2*i+1)*w*c:][:2*row]
		poolRow(top, bottom, l.B[:c], out[i*row:(i+1)*row], arg[i*row:(i+1)*row])
	}
}

// poolCut is pool's code of an output the ReLU cut: its gradient goes
// nowhere.
const poolCut = 4

// poolRowGo pools channels from… of one row of windows: top and bottom are
// the two rows of pre-activations (2·len(out) values each), out and arg the
// outputs and their codes, len(bias) channels each; see pool. An output is
// max(max(a, b)+bias, max(d, e)+bias, 0) with Go's max, and the code is
// computed without branches: a maximum's position is unpredictable.
func poolRowGo(top, bottom, bias, out []float32, arg []uint8, from int) {
	c := len(bias)
	for k := 0; k < len(out); k += c {
		a, b := top[2*k:2*k+c], top[2*k+c:2*k+2*c]
		d, e := bottom[2*k:2*k+c], bottom[2*k+c:2*k+2*c]
		o, at := out[k:k+c], arg[k:k+c]
		for ch := from; ch < c; ch++ {
			up, down := max(a[ch], b[ch]), max(d[ch], e[ch])
			v := max(up+bias[ch], down+bias[ch], 0)
			o[ch] = v
			m := max(up, down)
			// 0 at a, else 1 at b, else 2 at d, else 3.
			pos := (1 - b2u8(a[ch] == m)) * (1 + (1-b2u8(b[ch] == m))*(1+(1-b2u8(d[ch] == m))))
			live := b2u8(v > 0)
			at[ch] = live*pos + (1-live)*poolCut
		}
	}
}

// b2u8 is 1 if b, else 0.
func b2u8(b bool) uint8 {
	var u uint8
	if b {
		u = 1
	}
	return u
}

// poolGrad writes one image's gradient dz (pixels × Out, the
// pre-activation's) from its pooled outputs' gradient g and their codes arg
// (see pool): each output's gradient goes to the position its code names,
// zeros elsewhere (everywhere in a window whose output the ReLU cut). Each
// row of windows is poolGradRow's.
func poolGrad(l *ConvLayer, arg []uint8, g, dz []float32) {
	w, c := l.Width, l.Out
	row := (l.Width / 2) * c
	if l.Height%2 != 0 || l.Width%2 != 0 {
		clear(dz[:l.pixels()*c]) // the dropped last row or column
	}
	for i := range l.Height / 2 {
		top := dz[2*i*w*c:][:2*row]
		bottom := dz[(2*i+1)*w*c:][:2*row]
		poolGradRow(arg[i*row:(i+1)*row], g[i*row:(i+1)*row], top, bottom, c)
	}
}

// poolGradRowGo writes channels from… of one row of windows' gradient: top
// and bottom are the two rows of dz (2·len(g) values each), g and arg the
// row's output gradients and codes, c channels each; see poolGrad. It has
// no branches.
func poolGradRowGo(arg []uint8, g, top, bottom []float32, c, from int) {
	for k := 0; k < len(g); k += c {
		da, db := top[2*k:2*k+c], top[2*k+c:2*k+2*c]
		dd, de := bottom[2*k:2*k+c], bottom[2*k+c:2*k+2*c]
		at, gk := arg[k:k+c], g[k:k+c]
		for ch := from; ch < c; ch++ {
			gv, pos := math.Float32bits(gk[ch]), at[ch]
			da[ch] = math.Float32frombits(gv & maskIf(pos == 0))
			db[ch] = math.Float32frombits(gv & maskIf(pos == 1))
			dd[ch] = math.Float32frombits(gv & maskIf(pos == 2))
			de[ch] = math.Float32frombits(gv & maskIf(pos == 3))
		}
	}
}

// maskIf is all ones if b, else 0.
func maskIf(b bool) uint32 {
	var m uint32
	if b {
		m = ^uint32(0)
	}
	return m
}

// col2im adds image n's column gradients dcols (pixels × 9·In) into dx
// (Height×Width×In), which it first clears: im2col's transpose.
func col2im(l *ConvLayer, dcols, dx []float32) {
	h, w, c := l.Height, l.Width, l.In
	k, span := convTaps*c, convK*c
	clear(dx)
	for i := range h {
		for j := range w {
			row := dcols[(i*w+j)*k : (i*w+j+1)*k]
			for ky := range convK {
				src := row[ky*span : (ky+1)*span]
				yy := i + ky - 1
				switch {
				case yy < 0 || yy >= h:
				case j == 0:
					addTo(dx[yy*w*c:(yy*w+2)*c], src[c:])
				case j == w-1:
					addTo(dx[(yy*w+j-1)*c:(yy*w+j+1)*c], src[:2*c])
				case c == 1:
					d := dx[yy*w+j-1 : yy*w+j+2]
					d[0] += src[0]
					d[1] += src[1]
					d[2] += src[2]
				default:
					addTo(dx[(yy*w+j-1)*c:(yy*w+j+2)*c], src)
				}
			}
		}
	}
}
