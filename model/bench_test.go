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

// BenchmarkStreams measures what a data-parallel step (the batch split in
// two halves, each run forward and backward on its own goroutine with
// single-goroutine products, gradients summed after) could gain: the time of
// one half-batch step on one goroutine alone, and with a second goroutine
// running the same work beside it. On a machine whose cores add up, the two
// are equal; on ours (2 vCPUs, 2026-12-02) two streams ran each step 1.3×
// slower (1.54–1.87 ms alone, 2.05–2.38 ms side by side), no faster than
// BenchmarkStep's forward and backward of the whole batch with its products
// split over both cores (2.11–2.29 ms), so training keeps one stream.
func BenchmarkStreams(b *testing.B) {
	impl, ok := blas.Serial()
	if !ok {
		b.Skip("the products are not this module's: no single-goroutine Sgemm")
	}
	cfg := DefaultConfig()
	half := cfg.Batch / 2
	tr := randTriplets(1, half*50, 784)
	for _, streams := range []int{1, 2} {
		b.Run(strconv.Itoa(streams), func(b *testing.B) {
			nets := make([]*net, streams)
			for i := range nets {
				n, err := newTripletNet(InitWeights(cfg), half, cfg.Margin, impl)
				if err != nil {
					b.Fatal(err)
				}
				defer n.close()
				nets[i] = n
			}
			errs := make([]error, streams)
			b.ResetTimer()
			var wg sync.WaitGroup
			for s, n := range nets {
				wg.Add(1)
				go func() {
					defer wg.Done()
					idx := make([]int, half)
					for i := 0; i < b.N; i++ {
						for j := range idx {
							idx[j] = (i%50)*half + j
						}
						n.load(tr, idx)
						if _, err := n.run(); err != nil {
							errs[s] = err
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			for _, err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N), "µs/step-per-stream")
		})
	}
}
