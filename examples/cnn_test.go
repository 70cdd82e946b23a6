package examples_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/model"
)

// load_artifacts.py's load_model and forward, in plain numpy, reproduce the
// embeddings of a convolutional network from the files train writes
// (artifacts.WriteNet), within 1e-5 of model.Embed's, at square and
// non-square image sizes with odd sides.
func TestNumpyCNNEmbeddings(t *testing.T) {
	needPython(t)
	for _, tc := range []struct {
		h, w int
		conv []int
	}{
		{28, 28, []int{4, 8}},
		{13, 10, []int{3, 5, 6}},
	} {
		t.Run(fmt.Sprintf("%dx%d", tc.h, tc.w), func(t *testing.T) {
			cfg := model.DefaultConfig()
			cfg.Arch, cfg.Conv, cfg.Width, cfg.Input, cfg.Hidden = model.CNN, tc.conv, tc.w, tc.h*tc.w, []int{16, 8}
			w := model.InitWeights(cfg)
			r := rand.New(rand.NewPCG(3, 4))
			var conv []artifacts.Conv
			for _, c := range w.Conv {
				for i := range c.B {
					c.B[i] = float32(r.NormFloat64() * 0.1)
				}
				conv = append(conv, artifacts.Conv{Height: c.Height, Width: c.Width, In: c.In, Out: c.Out, W: c.W, B: c.B})
			}
			var dense []artifacts.Dense
			for i, l := range w.Layers {
				act := map[bool]string{true: "linear", false: "relu"}[i == len(w.Layers)-1]
				dense = append(dense, artifacts.Dense{In: l.In, Out: l.Out, W: l.W, B: l.B, Activation: act})
			}
			root := t.TempDir()
			mkdirs(t, root, "train/model")
			must(t, artifacts.WriteNet(filepath.Join(root, "train", "model"), conv, dense, nil))
			const n = 50
			x := make([]float32, n*cfg.Input)
			for i := range x {
				x[i] = r.Float32()
			}
			must(t, artifacts.WriteNPY(filepath.Join(root, "x.npy"), x, n, cfg.Input))
			code, out, errOut := run(t, python, "-c", `
import sys, numpy as np
from load_artifacts import load_model, forward
_, layers = load_model(sys.argv[1])
np.save(sys.argv[1] + "/emb.npy", forward(np.load(sys.argv[1] + "/x.npy"), layers).astype(np.float32))
`, root)
			if code != 0 {
				t.Fatalf("numpy forward: exit %d\n%s\n%s", code, out, errOut)
			}
			got, shape, err := artifacts.ReadNPY[float32](filepath.Join(root, "emb.npy"))
			must(t, err)
			want := model.Embed(w, x, n)
			if len(shape) != 2 || shape[0] != n || shape[1] != w.OutputDim() {
				t.Fatalf("numpy's embeddings have shape %v", shape)
			}
			worst := 0.0
			for i, v := range want {
				worst = max(worst, math.Abs(float64(got[i]-v)))
			}
			if worst > 1e-5 {
				t.Fatalf("numpy's embeddings differ from model.Embed's by up to %g", worst)
			}
			t.Logf("largest difference %g", worst)
		})
	}
}
