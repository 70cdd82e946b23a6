package model

import (
	"context"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/blas"
)

// Full-size random data as in the notebook: 28500 training and 1500
// validation triplets of 784 floats.
const (
	benchTrainN = 28500
	benchValN   = 1500
)

var benchData = sync.OnceValues(func() (Triplets, Triplets) {
	r := rand.New(rand.NewPCG(99, 99))
	mk := func(n int) Triplets {
		t := Triplets{N: n, Dim: 784, Data: make([]float32, n*3*784)}
		for i := range t.Data {
			t.Data[i] = r.Float32() // pixels in [0,1)
		}
		return t
	}
	return mk(benchTrainN), mk(benchValN)
})

func epochConfig() Config {
	cfg := DefaultConfig()
	cfg.Epochs = 1
	return cfg
}

func trainSubset(n int) Triplets {
	tr, _ := benchData()
	if n > 0 && n < tr.N {
		return tr.Slice(0, n)
	}
	return tr
}

// BenchmarkEpoch times one epoch (28500 random triplets, batch 32, plus
// validation on 1500) per iteration and reports seconds/epoch.
func BenchmarkEpoch(b *testing.B) {
	tr, val := benchData()
	cfg := epochConfig()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Train(context.Background(), cfg, tr, val, TrainOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.History[0].Seconds, "s/epoch")
	}
	b.Logf("blas=%s GOMAXPROCS=%d", blas.Name(), runtime.GOMAXPROCS(0))
}

// TestEpochTiming runs when SIAMESE_EPOCH_TIMING is set (to a number of
// training triplets, or 1 for the full 28500): one epoch timed, for make
// bench; SIAMESE_EPOCH_PRECISION sets Config.Precision.
func TestEpochTiming(t *testing.T) {
	s := os.Getenv("SIAMESE_EPOCH_TIMING")
	if s == "" {
		t.Skip("set SIAMESE_EPOCH_TIMING=1 to time one full-size epoch")
	}
	n, _ := strconv.Atoi(s)
	if n <= 1 {
		n = benchTrainN
	}
	tr := trainSubset(n)
	_, val := benchData()
	cfg := epochConfig()
	if p := os.Getenv("SIAMESE_EPOCH_PRECISION"); p != "" {
		cfg.Precision = p
	}
	start := time.Now()
	res, err := Train(context.Background(), cfg, tr, val, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := res.History[0]
	t.Logf("blas=%s precision=%s GOMAXPROCS=%d triplets=%d batch=%d: epoch %.2fs (loss %.4f val %.4f; with setup %.2fs)",
		blas.Name(), cfg.Precision, runtime.GOMAXPROCS(0), tr.N, cfg.Batch, st.Seconds, st.Loss, st.ValLoss, time.Since(start).Seconds())
}

// BenchmarkStep times one training step (batch 32, full-size network) and
// its parts: loading the batch, forward+backward, the Adam update.
func BenchmarkStep(b *testing.B) {
	cfg := DefaultConfig()
	tr := randTriplets(1, 32*50, 784)
	w := InitWeights(cfg)
	n, err := newNet(w, cfg.Batch, cfg.Margin)
	if err != nil {
		b.Fatal(err)
	}
	defer n.close()
	adam := NewAdam(cfg)
	idx := make([]int, cfg.Batch)
	var tLoad, tRun, tAdam time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range idx {
			idx[j] = (i%50)*cfg.Batch + j
		}
		t0 := time.Now()
		n.load(tr, idx)
		t1 := time.Now()
		if _, err := n.run(); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if err := adam.Step(n.vgs); err != nil {
			b.Fatal(err)
		}
		tLoad += t1.Sub(t0)
		tRun += t2.Sub(t1)
		tAdam += time.Since(t2)
	}
	per := func(d time.Duration) float64 { return d.Seconds() * 1e6 / float64(b.N) }
	b.ReportMetric(per(tLoad), "µs-load/op")
	b.ReportMetric(per(tRun), "µs-fwdbwd/op")
	b.ReportMetric(per(tAdam), "µs-adam/op")
}
