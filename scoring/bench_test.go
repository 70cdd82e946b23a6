package scoring

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
)

// writeMLP writes a network of the pipeline's shape, 784→512→256→128,
// with random weights, and anchors and thresholds for 10 classes.
func benchModel(b *testing.B) *Model {
	b.Helper()
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	var layers []artifacts.Dense
	in := 784
	for i, out := range []int{512, 256, 128} {
		w := make([]float32, in*out)
		for j := range w {
			w[j] = float32(rng.NormFloat64() / 28)
		}
		act := "relu"
		if i == 2 {
			act = "linear"
		}
		layers = append(layers, artifacts.Dense{In: in, Out: out, W: w, B: make([]float32, out), Activation: act})
		in = out
	}
	f := Files{Model: dir, Anchors: filepath.Join(dir, "anchors.npy"), Thresholds: filepath.Join(dir, "thresholds.json"),
		Classes: filepath.Join(dir, "classes.txt")}
	if err := artifacts.WriteMLP(dir, layers, nil); err != nil {
		b.Fatal(err)
	}
	anchors := make([]float32, 10*128)
	for j := range anchors {
		anchors[j] = float32(rng.NormFloat64())
	}
	names := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	if err := artifacts.WriteNPY(f.Anchors, anchors, 10, 128); err != nil {
		b.Fatal(err)
	}
	th := &Thresholds{Classes: names, Thresholds: []float64{.1, .1, .1, .1, .1, .1, .1, .1, .1, .1}}
	if err := th.Write(f.Thresholds); err != nil {
		b.Fatal(err)
	}
	writeLines(b, f.Classes, names)
	m, err := Open(f, Preprocess{ImageSize: 28, Filter: "bilinear"})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkScoreNPY scores a .npy of 20,000 images, as siamese score does
// (without formatting rows); images/s is the figure to read.
func BenchmarkScoreNPY(b *testing.B) {
	m := benchModel(b)
	const n = 20000
	px := make([]uint8, n*784)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range px {
		px[i] = uint8(rng.IntN(256))
	}
	path := filepath.Join(b.TempDir(), "x.npy")
	if err := artifacts.WriteNPY(path, px, n, 28, 28); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		var res []Result
		err := Read(context.Background(), []string{path}, m.Preprocess, func(names []string, pixels []uint8) error {
			res = m.Score(pixels, len(names), res[:0])
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
}

func writeLines(b *testing.B, path string, lines []string) {
	b.Helper()
	var s string
	for _, l := range lines {
		s += l + "\n"
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		b.Fatal(err)
	}
}
