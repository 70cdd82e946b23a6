package model

import (
	"context"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/blas"
)

// cnnBenchImages are n random 28×28 images of 10 classes.
func cnnBenchImages(n int) Images {
	r := rand.New(rand.NewPCG(1, 2))
	im := Images{N: n, Dim: 784, Data: make([]float32, n*784), Labels: make([]int32, n)}
	for i := range im.Data {
		im.Data[i] = r.Float32()
	}
	for i := range im.Labels {
		im.Labels[i] = int32(r.IntN(10))
	}
	return im
}

// cnnBenchConfig is bench/torch/cnn_epoch.py's network and optimiser:
// conv 32 and 64 channels, dense 256 → 128, margin 0.2, lr 1e-3.
func cnnBenchConfig() Config {
	cfg := DefaultConfig()
	cfg.Arch, cfg.Conv, cfg.Width, cfg.Hidden = CNN, []int{32, 64}, 28, []int{256, 128}
	cfg.Margin, cfg.LR, cfg.Epochs = 0.2, 1e-3, 1
	return cfg
}

// TestCNNEpochTiming runs when SIAMESE_CNN_EPOCH_TIMING is set (to a
// number of images, or 1 for 55000): one epoch of the CNN on batch-all
// batches of 10×16 images, timed, for make bench.
func TestCNNEpochTiming(t *testing.T) {
	s := os.Getenv("SIAMESE_CNN_EPOCH_TIMING")
	if s == "" {
		t.Skip("set SIAMESE_CNN_EPOCH_TIMING=1 to time one CNN epoch on 55000 images")
	}
	n, _ := strconv.Atoi(s)
	if n <= 1 {
		n = 55000
	}
	im := cnnBenchImages(n)
	cfg := cnnBenchConfig()
	start := time.Now()
	res, err := Fit(context.Background(), cfg, Mined(im, Batches{Mining: BatchAll, Classes: 10, PerClass: 16}), Triplets{}, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := res.History[0]
	t.Logf("blas=%s GOMAXPROCS=%d images=%d: epoch %.2fs (loss %.4f; with setup %.2fs)",
		blas.Name(), runtime.GOMAXPROCS(0), n, st.Seconds, st.Loss, time.Since(start).Seconds())
}

// BenchmarkCNNStep times one training step of the CNN on 10×16 images.
func BenchmarkCNNStep(b *testing.B) {
	cfg := cnnBenchConfig()
	im := cnnBenchImages(160)
	mode := Mined(im, Batches{Mining: BatchAll, Classes: 10, PerClass: 16}).(*mined)
	if err := mode.check(cfg); err != nil {
		b.Fatal(err)
	}
	w := InitWeights(cfg)
	n, err := mode.net(w, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer n.close()
	mode.epoch(cfg, 0)
	adam := NewAdam(cfg)
	for b.Loop() {
		mode.load(n, 0)
		if _, err := n.run(); err != nil {
			b.Fatal(err)
		}
		if err := adam.Step(n.vgs); err != nil {
			b.Fatal(err)
		}
	}
}
