package artifacts

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// Dense is one dense layer of a saved network: y = activation(x·W + B),
// W stored In×Out row-major.
type Dense struct {
	In, Out    int
	W, B       []float32
	Activation string // "relu" or "linear"
}

// Conv is one convolutional block of a saved network: a 3×3 convolution
// of a Height×Width×In image (channels last) with zero padding 1 and
// stride 1, ReLU, then 2×2 max-pooling with stride 2 (an odd last row or
// column dropped). W is stored (3, 3, In, Out) row-major: kernel row,
// kernel column, input channel, output channel.
type Conv struct {
	Height, Width, In, Out int
	W, B                   []float32
}

// OutDim is the size of the block's pooled output.
func (c Conv) OutDim() int { return (c.Height / 2) * (c.Width / 2) * c.Out }

// MLP is model.json: how to rebuild a network's forward pass from the
// weight files beside it, in a few lines of numpy. A convolutional network
// lists its blocks in Conv, applied first to the image reshaped to
// (Image[0], Image[1], 1); the dense Layers then take the last block's
// output flattened in (height, width, channel) order.
type MLP struct {
	Input     int        `json:"input"`
	Embedding int        `json:"embedding"`
	Layers    []MLPLayer `json:"layers"`
	Image     []int      `json:"image,omitempty"` // [height, width] of a convolutional network's input
	Conv      []ConvSpec `json:"conv,omitempty"`
	// Extra describes how the network was trained (loss, margin, epochs).
	Extra map[string]any `json:"training,omitempty"`
}

// ConvSpec names one conv block's files in model.json.
type ConvSpec struct {
	Weights    string `json:"weights"` // float32 (3, 3, in, out)
	Bias       string `json:"bias"`    // float32 (out,)
	Height     int    `json:"height"`  // of the block's input
	Width      int    `json:"width"`
	In         int    `json:"in"`
	Out        int    `json:"out"`
	Kernel     int    `json:"kernel"`     // 3
	Padding    int    `json:"padding"`    // 1 (zeros)
	Pool       int    `json:"pool"`       // 2 (max, stride 2)
	Activation string `json:"activation"` // "relu", before pooling
}

// The conv blocks' fixed geometry, as model.json states it.
const (
	convKernel  = 3
	convPadding = 1
	convPool    = 2
)

// MLPLayer names one layer's files in model.json.
type MLPLayer struct {
	Weights    string `json:"weights"` // float32 (in, out)
	Bias       string `json:"bias"`    // float32 (out,)
	In         int    `json:"in"`
	Out        int    `json:"out"`
	Activation string `json:"activation"`
}

// WriteMLP writes each layer's weights and bias as W<i>.npy and b<i>.npy
// in dir, and model.json describing them.
func WriteMLP(dir string, layers []Dense, extra map[string]any) error {
	return WriteNet(dir, nil, layers, extra)
}

// WriteNet is WriteMLP for a network with conv blocks before its dense
// layers: each block's weights and bias as C<i>.npy and c<i>.npy too.
func WriteNet(dir string, conv []Conv, layers []Dense, extra map[string]any) error {
	if len(layers) == 0 {
		return fmt.Errorf("write model in %s: no layers", dir)
	}
	m := MLP{Input: layers[0].In, Embedding: layers[len(layers)-1].Out, Extra: extra}
	if len(conv) > 0 {
		m.Input, m.Image = conv[0].Height*conv[0].Width*conv[0].In, []int{conv[0].Height, conv[0].Width}
	}
	for i, c := range conv {
		cs := ConvSpec{Weights: fmt.Sprintf("C%d.npy", i), Bias: fmt.Sprintf("c%d.npy", i),
			Height: c.Height, Width: c.Width, In: c.In, Out: c.Out,
			Kernel: convKernel, Padding: convPadding, Pool: convPool, Activation: "relu"}
		if err := WriteNPY(filepath.Join(dir, cs.Weights), c.W, convKernel, convKernel, c.In, c.Out); err != nil {
			return err
		}
		if err := WriteNPY(filepath.Join(dir, cs.Bias), c.B, c.Out); err != nil {
			return err
		}
		m.Conv = append(m.Conv, cs)
	}
	for i, l := range layers {
		ml := MLPLayer{Weights: fmt.Sprintf("W%d.npy", i), Bias: fmt.Sprintf("b%d.npy", i),
			In: l.In, Out: l.Out, Activation: l.Activation}
		if err := WriteNPY(filepath.Join(dir, ml.Weights), l.W, l.In, l.Out); err != nil {
			return err
		}
		if err := WriteNPY(filepath.Join(dir, ml.Bias), l.B, l.Out); err != nil {
			return err
		}
		m.Layers = append(m.Layers, ml)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "model.json"), append(data, '\n'), 0o644)
}

// ReadMLP reads a network that WriteMLP wrote in dir; a network with conv
// blocks is an error (ReadNet reads those).
func ReadMLP(dir string) ([]Dense, *MLP, error) {
	conv, layers, m, err := ReadNet(dir)
	if err == nil && len(conv) > 0 {
		return nil, nil, fmt.Errorf("read %s: a convolutional network", filepath.Join(dir, "model.json"))
	}
	return layers, m, err
}

// ReadNet reads a network that WriteNet or WriteMLP wrote in dir.
func ReadNet(dir string) ([]Conv, []Dense, *MLP, error) {
	name := filepath.Join(dir, "model.json")
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read model: %w", err)
	}
	var m MLP
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	var layers []Dense
	for i, ml := range m.Layers {
		w, b, err := readParams(dir, name, "layer", i, ml.Weights, ml.Bias, []int{ml.In, ml.Out})
		if err != nil {
			return nil, nil, nil, err
		}
		if i > 0 && layers[i-1].Out != ml.In {
			return nil, nil, nil, fmt.Errorf("read %s: layer %d takes %d inputs, layer %d gives %d", name, i, ml.In, i-1, layers[i-1].Out)
		}
		layers = append(layers, Dense{In: ml.In, Out: ml.Out, W: w, B: b, Activation: ml.Activation})
	}
	if len(layers) == 0 {
		return nil, nil, nil, fmt.Errorf("read %s: no layers", name)
	}
	conv, err := readConv(dir, name, &m, layers[0].In)
	if err != nil {
		return nil, nil, nil, err
	}
	return conv, layers, &m, nil
}

// readConv reads m's conv blocks from dir and checks that they chain from
// m.Image to the first dense layer's in inputs.
func readConv(dir, name string, m *MLP, in int) ([]Conv, error) {
	if len(m.Conv) == 0 {
		return nil, nil
	}
	if len(m.Image) != 2 {
		return nil, fmt.Errorf("read %s: conv blocks without an image [height, width]", name)
	}
	h, w, ch := m.Image[0], m.Image[1], 1
	var out []Conv
	for i, cs := range m.Conv {
		if cs.Kernel != convKernel || cs.Padding != convPadding || cs.Pool != convPool || cs.Activation != "relu" {
			return nil, fmt.Errorf("read %s: conv block %d: kernel %d, padding %d, pool %d, %q; this program reads 3, 1, 2, relu",
				name, i, cs.Kernel, cs.Padding, cs.Pool, cs.Activation)
		}
		if cs.Height != h || cs.Width != w || cs.In != ch || h < 2 || w < 2 || cs.Out <= 0 {
			return nil, fmt.Errorf("read %s: conv block %d takes %dx%dx%d→%d, the input before it is %dx%dx%d", name, i, cs.Height, cs.Width, cs.In, cs.Out, h, w, ch)
		}
		c := Conv{Height: h, Width: w, In: ch, Out: cs.Out}
		var err error
		if c.W, c.B, err = readParams(dir, name, "conv block", i, cs.Weights, cs.Bias, []int{convKernel, convKernel, c.In, c.Out}); err != nil {
			return nil, err
		}
		out = append(out, c)
		h, w, ch = h/2, w/2, cs.Out
	}
	if last := out[len(out)-1]; last.OutDim() != in || m.Input != m.Image[0]*m.Image[1] {
		return nil, fmt.Errorf("read %s: the conv blocks give %d values, layer 0 takes %d (input %d, image %v)", name, last.OutDim(), in, m.Input, m.Image)
	}
	return out, nil
}

// readParams reads layer i's weights and bias (what names the layer kind),
// checks that they are finite, that the weights have shape wShape and the
// bias its last size.
func readParams(dir, name, what string, i int, wFile, bFile string, wShape []int) ([]float32, []float32, error) {
	if filepath.Base(wFile) != wFile || filepath.Base(bFile) != bFile {
		return nil, nil, fmt.Errorf("read %s: %s %d names a file outside %s", name, what, i, dir)
	}
	w, gotW, err := ReadNPY[float32](filepath.Join(dir, wFile))
	if err != nil {
		return nil, nil, err
	}
	b, gotB, err := ReadNPY[float32](filepath.Join(dir, bFile))
	if err != nil {
		return nil, nil, err
	}
	if err := CheckFinite(filepath.Join(dir, wFile), w, 0); err != nil {
		return nil, nil, err
	}
	if err := CheckFinite(filepath.Join(dir, bFile), b, 0); err != nil {
		return nil, nil, err
	}
	if !slices.Equal(gotW, wShape) || !slices.Equal(gotB, wShape[len(wShape)-1:]) {
		return nil, nil, fmt.Errorf("read %s: %s %d: shapes %v and %v do not match %v and %v", name, what, i, gotW, gotB, wShape, wShape[len(wShape)-1:])
	}
	return w, b, nil
}
