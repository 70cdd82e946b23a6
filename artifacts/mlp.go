package artifacts

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Dense is one dense layer of a saved network: y = activation(x·W + B),
// W stored In×Out row-major.
type Dense struct {
	In, Out    int
	W, B       []float32
	Activation string // "relu" or "linear"
}

// MLP is model.json: how to rebuild a network's forward pass from the
// weight files beside it, in a few lines of numpy.
type MLP struct {
	Input     int        `json:"input"`
	Embedding int        `json:"embedding"`
	Layers    []MLPLayer `json:"layers"`
	// Extra describes how the network was trained (loss, margin, epochs).
	Extra map[string]any `json:"training,omitempty"`
}

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
	if len(layers) == 0 {
		return fmt.Errorf("write model in %s: no layers", dir)
	}
	m := MLP{Input: layers[0].In, Embedding: layers[len(layers)-1].Out, Extra: extra}
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

// ReadMLP reads a network that WriteMLP wrote in dir.
func ReadMLP(dir string) ([]Dense, *MLP, error) {
	name := filepath.Join(dir, "model.json")
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, nil, fmt.Errorf("read model: %w", err)
	}
	var m MLP
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	var layers []Dense
	for i, ml := range m.Layers {
		if filepath.Base(ml.Weights) != ml.Weights || filepath.Base(ml.Bias) != ml.Bias {
			return nil, nil, fmt.Errorf("read %s: layer %d names a file outside %s", name, i, dir)
		}
		w, wShape, err := ReadNPY[float32](filepath.Join(dir, ml.Weights))
		if err != nil {
			return nil, nil, err
		}
		b, bShape, err := ReadNPY[float32](filepath.Join(dir, ml.Bias))
		if err != nil {
			return nil, nil, err
		}
		if err := CheckFinite(filepath.Join(dir, ml.Weights), w, 0); err != nil {
			return nil, nil, err
		}
		if err := CheckFinite(filepath.Join(dir, ml.Bias), b, 0); err != nil {
			return nil, nil, err
		}
		if len(wShape) != 2 || len(bShape) != 1 || wShape[1] != bShape[0] || wShape[0] != ml.In || wShape[1] != ml.Out {
			return nil, nil, fmt.Errorf("read %s: layer %d: shapes %v and %v do not match (%d, %d)", name, i, wShape, bShape, ml.In, ml.Out)
		}
		if i > 0 && layers[i-1].Out != ml.In {
			return nil, nil, fmt.Errorf("read %s: layer %d takes %d inputs, layer %d gives %d", name, i, ml.In, i-1, layers[i-1].Out)
		}
		layers = append(layers, Dense{In: ml.In, Out: ml.Out, W: w, B: b, Activation: ml.Activation})
	}
	if len(layers) == 0 {
		return nil, nil, fmt.Errorf("read %s: no layers", name)
	}
	return layers, &m, nil
}
