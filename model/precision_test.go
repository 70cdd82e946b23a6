package model

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/siamese-pipeline/siamese/blas"
)

// TestBF16Gradients: with bf16 products the graph's gradients are those of
// float32 products up to bfloat16's rounding of the operands (8 bits of
// mantissa), and not the same bits (the bf16 products are in use). One
// layer, margin 1.5: no relu and no hinge kinks for the rounding to cross
// (with hidden relus a few units change sides and the gradients differ by
// some 10 %; TestBF16Training shows that training still works).
func TestBF16Gradients(t *testing.T) {
	cfg := smallConfig(40, 33) // sizes off the 32-wide tiles too
	w := InitWeights(cfg)
	r := rand.New(rand.NewPCG(4, 4))
	for i := range w.Layers {
		copy(w.Layers[i].B, randFloats(r, len(w.Layers[i].B), 0.1))
	}
	tr := randTriplets(3, 24, cfg.Input)
	g32, l32 := netGradsWith(t, w, tr, 24, 1.5, blas.Float32())
	g16, l16 := netGradsWith(t, w, tr, 24, 1.5, blas.BF16())
	if math.Abs(l16-l32) > 1e-2*math.Abs(l32)+1e-4 {
		t.Errorf("loss %g with bf16 products, %g with float32", l16, l32)
	}
	same := true
	for i := range w.Layers {
		for name, p := range map[string][2][]float32{
			"W": {g32.Layers[i].W, g16.Layers[i].W},
			"b": {g32.Layers[i].B, g16.Layers[i].B},
		} {
			var diff, norm float64
			for k := range p[0] {
				d := float64(p[0][k] - p[1][k])
				diff += d * d
				norm += float64(p[0][k]) * float64(p[0][k])
				same = same && p[0][k] == p[1][k]
			}
			rel := math.Sqrt(diff / norm)
			t.Logf("layer %d %s: bf16 gradient %.3g (relative, L2) from float32's", i, name, rel)
			if !(rel < 0.02) {
				t.Errorf("layer %d %s: bf16 gradient %.3g (relative, L2) from float32's", i, name, rel)
			}
		}
	}
	if same {
		t.Error("bf16 products gave float32's gradients bit for bit")
	}
}

// TestBF16Training: training with bf16 products learns the toy set as
// float32 does, and a checkpoint of one precision is not resumed by the
// other.
func TestBF16Training(t *testing.T) {
	cfg := smallConfig(12, 32, 16, 8)
	cfg.LR, cfg.Epochs, cfg.Patience, cfg.Precision = 3e-3, 8, 10, BF16
	train := clusterTriplets(1, 256, cfg.Input, false)
	val := clusterTriplets(2, 64, cfg.Input, false)
	dir := t.TempDir()
	res, err := Train(context.Background(), cfg, train, val, TrainOptions{CheckpointDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	last := res.History[len(res.History)-1]
	if last.Loss > 0.02 || last.ValLoss > 0.02 {
		t.Fatalf("loss did not fall to ~0 with bf16 products: train %g val %g", last.Loss, last.ValLoss)
	}
	cfg.Precision = Float32
	res, err = Train(context.Background(), cfg, train, val, TrainOptions{CheckpointDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed {
		t.Error("float32 training resumed a bf16 checkpoint")
	}
}

// TestCheckpointPrecisionUnset: a checkpoint written before Precision
// existed (decoded as "") is resumed by float32 training.
func TestCheckpointPrecisionUnset(t *testing.T) {
	cfg := smallConfig(12, 8)
	cfg.Epochs, cfg.Patience, cfg.Precision = 3, 10, ""
	train := clusterTriplets(1, 64, cfg.Input, false)
	val := clusterTriplets(2, 16, cfg.Input, false)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Train(ctx, cfg, train, val, TrainOptions{CheckpointDir: dir, OnEpoch: func(EpochStats) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err = %v", err)
	}
	cfg.Precision = Float32
	res, err := Train(context.Background(), cfg, train, val, TrainOptions{CheckpointDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Resumed {
		t.Error("a checkpoint with Precision \"\" was not resumed with Precision float32")
	}
}

func TestPrecisionValidate(t *testing.T) {
	for _, tc := range []struct {
		precision string
		ok        bool
	}{{"", true}, {Float32, true}, {BF16, true}, {"fp16", false}, {"BF16", false}} {
		cfg := DefaultConfig()
		cfg.Precision = tc.precision
		if err := cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("Precision %q: Validate() = %v", tc.precision, err)
		}
	}
}
