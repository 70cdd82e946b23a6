package scoring

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/imageio"
	"github.com/siamese-pipeline/siamese/model"
)

// Default preprocessing, for runs whose ingest has no such params.
const (
	DefaultImageSize = 28
	DefaultFilter    = "bilinear"
)

// Files are where a model's parts lie.
type Files struct {
	Model      string // the directory holding model.json and its weight files
	Anchors    string // anchors.npy, float32 (classes, embedding)
	Thresholds string // thresholds.json
	Classes    string // classes.txt, one name a line
}

// Preprocess is how an image file becomes the network's input: decoded to
// grayscale and resized to ImageSize×ImageSize with Filter (imageio's).
type Preprocess struct {
	ImageSize int    `json:"image_size"`
	Filter    string `json:"filter"`
}

// Model is a network with its class anchors and thresholds.
type Model struct {
	Weights    *model.Weights
	Anchors    []float32 // classes×Dim
	Dim        int
	Classes    []string
	Thresholds []float64
	Preprocess Preprocess
}

// LoadWeights reads the network that the train stage saved in dir (its
// conv blocks, if any, and dense layers) as model's weights.
func LoadWeights(dir string) (*model.Weights, error) {
	conv, layers, _, err := artifacts.ReadNet(dir)
	if err != nil {
		return nil, err
	}
	w := &model.Weights{}
	for _, c := range conv {
		w.Conv = append(w.Conv, model.ConvLayer{Height: c.Height, Width: c.Width, In: c.In, Out: c.Out, W: c.W, B: c.B})
	}
	for i, l := range layers {
		// model's networks put relu after every layer but the last.
		if want := map[bool]string{true: "linear", false: "relu"}[i == len(layers)-1]; l.Activation != want {
			return nil, fmt.Errorf("%s: layer %d has activation %q, want %q", dir, i, l.Activation, want)
		}
		w.Layers = append(w.Layers, model.Layer{In: l.In, Out: l.Out, W: l.W, B: l.B})
	}
	if err := w.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return w, nil
}

// Open loads a model's files and checks that they fit together.
func Open(f Files, pre Preprocess) (*Model, error) {
	w, err := LoadWeights(f.Model)
	if err != nil {
		return nil, err
	}
	m := &Model{Weights: w, Dim: w.OutputDim(), Preprocess: pre}
	anchors, shape, err := artifacts.ReadNPY[float32](f.Anchors)
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 || shape[1] != m.Dim || shape[0] < 1 {
		return nil, fmt.Errorf("%s: shape %v, want (classes, %d)", f.Anchors, shape, m.Dim)
	}
	m.Anchors = anchors
	t, err := ReadThresholds(f.Thresholds)
	if err != nil {
		return nil, err
	}
	m.Thresholds = t.Thresholds
	names, err := os.ReadFile(f.Classes)
	if err != nil {
		return nil, err
	}
	m.Classes = strings.Split(strings.TrimRight(string(names), "\n"), "\n")
	if len(m.Classes) != shape[0] || len(m.Thresholds) != shape[0] {
		return nil, fmt.Errorf("%d classes in %s, %d anchors in %s, %d thresholds in %s: they must agree",
			len(m.Classes), filepath.Base(f.Classes), shape[0], filepath.Base(f.Anchors), len(m.Thresholds), filepath.Base(f.Thresholds))
	}
	if _, ok := imageio.Filters[pre.Filter]; !ok {
		return nil, fmt.Errorf("unknown filter %q (want one of %s)", pre.Filter, strings.Join(imageio.FilterNames(), ", "))
	}
	if pre.ImageSize*pre.ImageSize != w.InputDim() {
		return nil, fmt.Errorf("images of %d×%d pixels do not fit the network's %d inputs", pre.ImageSize, pre.ImageSize, w.InputDim())
	}
	return m, nil
}

// Result is the score of one image.
type Result struct {
	Class    int     // the class whose anchor is nearest
	Distance float64 // the cosine distance to that anchor
	// Score is Distance over the class's threshold: above 1 is beyond it.
	Score float64
	Pass  bool // Distance ≤ the class's threshold
}

// Score scores n images of ImageSize² pixels each, appending to out.
func (m *Model) Score(pixels []uint8, n int, out []Result) []Result {
	in := m.Weights.InputDim()
	x := make([]float32, n*in)
	for i, v := range pixels[:n*in] {
		x[i] = model.Unit[v] // as training reads the images
	}
	emb := model.Embed(m.Weights, x, n)
	for i := range n {
		out = append(out, m.Nearest(emb[i*m.Dim:(i+1)*m.Dim]))
	}
	return out
}

// Nearest scores one embedding against the anchors.
func (m *Model) Nearest(e []float32) Result {
	r := Result{Class: -1, Distance: math.Inf(1)}
	for c := range m.Classes {
		if d := Distance(e, m.Anchors[c*m.Dim:(c+1)*m.Dim]); d < r.Distance {
			r.Class, r.Distance = c, d
		}
	}
	th := m.Thresholds[r.Class]
	r.Score = r.Distance / max(th, 1e-12)
	r.Pass = r.Distance <= th
	return r
}
