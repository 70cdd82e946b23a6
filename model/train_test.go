package model

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestLossFallsOnEasySet: two well separated clusters; the triplet loss
// goes to about zero.
func TestLossFallsOnEasySet(t *testing.T) {
	cfg := smallConfig(12, 32, 16, 8)
	cfg.LR, cfg.Epochs, cfg.Patience = 3e-3, 8, 10
	train := clusterTriplets(1, 256, cfg.Input, false)
	val := clusterTriplets(2, 64, cfg.Input, false)
	initial := Loss(InitWeights(cfg), train, cfg.Margin)
	res, err := Train(context.Background(), cfg, train, val, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first, last := res.History[0], res.History[len(res.History)-1]
	t.Logf("initial %.4f; loss %.4f → %.4f, val %.4f → %.4f", initial, first.Loss, last.Loss, first.ValLoss, last.ValLoss)
	if initial < 0.2 {
		t.Fatalf("initial loss %g: the toy set is too easy to tell", initial)
	}
	if last.Loss > 0.02 || last.ValLoss > 0.02 {
		t.Fatalf("loss did not fall to ~0: train %g val %g", last.Loss, last.ValLoss)
	}
	if got := Loss(res.Best, val, cfg.Margin); got != res.History[res.BestEpoch-1].ValLoss {
		t.Fatalf("Best's val loss %g, history says %g", got, res.History[res.BestEpoch-1].ValLoss)
	}
}

// TestPartialLastBatch: N=70 at batch 32 trains on batches of 32, 32 and 6
// and one epoch matches a hand-run loop over graphs of exactly those sizes.
func TestPartialLastBatch(t *testing.T) {
	cfg := smallConfig(10, 12, 6)
	cfg.Epochs, cfg.Seed = 1, 5
	train := randTriplets(8, 70, cfg.Input)
	val := randTriplets(9, 10, cfg.Input)
	var calls []int
	var running []float64
	res, err := Train(context.Background(), cfg, train, val, TrainOptions{OnBatch: func(b, n int, l float64) {
		if n != 3 {
			t.Errorf("batches = %d, want 3", n)
		}
		calls = append(calls, b)
		running = append(running, l)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 3 || calls[2] != 3 {
		t.Fatalf("OnBatch calls %v", calls)
	}

	// By hand: exact-size graphs, same order, same Adam.
	w := InitWeights(cfg)
	adam := NewAdam(cfg)
	perm := permutation(cfg.Seed, 0, train.N)
	var sum float64
	for b := 0; b < 3; b++ {
		idx := perm[b*32 : min(70, (b+1)*32)]
		n, err := newNet(w, len(idx), cfg.Margin)
		if err != nil {
			t.Fatal(err)
		}
		n.load(train, idx)
		loss, err := n.run()
		if err != nil {
			t.Fatal(err)
		}
		if err := adam.Step(n.vgs); err != nil {
			t.Fatal(err)
		}
		n.close()
		sum += loss * float64(len(idx))
	}
	if got, want := res.History[0].Loss, sum/70; math.Abs(got-want) > 1e-6 || running[2] != got {
		t.Fatalf("epoch loss %g (running %g), by hand %g", got, running[2], want)
	}
	for i, l := range res.Best.Layers {
		for k, v := range l.W {
			if math.Abs(float64(v-w.Layers[i].W[k])) > 1e-6 {
				t.Fatalf("W%d[%d] = %g, by hand %g", i, k, v, w.Layers[i].W[k])
			}
		}
	}
}

// TestResumeIsBitIdentical: a run killed in epoch 3 and restarted from its
// checkpoint ends with the same weights, bit for bit, as an uninterrupted run.
func TestResumeIsBitIdentical(t *testing.T) {
	cfg := smallConfig(16, 24, 12, 8)
	cfg.Epochs, cfg.Patience, cfg.Batch, cfg.Seed, cfg.LR = 5, 10, 8, 77, 1e-3
	train := randTriplets(1, 100, cfg.Input) // 13 batches, the last partial
	val := randTriplets(2, 20, cfg.Input)

	full, err := Train(context.Background(), cfg, train, val, TrainOptions{CheckpointDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if full.Resumed || len(full.History) != 5 {
		t.Fatalf("uninterrupted run: resumed=%v epochs=%d", full.Resumed, len(full.History))
	}

	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	epochs := 0
	_, err = Train(ctx, cfg, train, val, TrainOptions{
		CheckpointDir: dir,
		OnEpoch:       func(EpochStats) { epochs++ },
		OnBatch: func(b, _ int, _ float64) {
			if epochs == 2 && b == 6 {
				cancel() // "killed" in the middle of epoch 3
			}
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err = %v", err)
	}
	if ck, err := loadCheckpoint(dir); err != nil || ck == nil || ck.Epoch != 2 || ck.Adam.T != 2*13 {
		t.Fatalf("checkpoint after the kill: present=%v err=%v; want 2 epochs, 26 steps", ck != nil, err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".checkpoint-*")); len(m) != 0 {
		t.Fatalf("temporary files left: %v", m)
	}
	resumed, err := Train(context.Background(), cfg, train, val, TrainOptions{CheckpointDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !resumed.Resumed {
		t.Fatal("second run did not resume")
	}
	if !resumed.Best.Equal(full.Best) {
		t.Fatal("resumed run's weights differ from the uninterrupted run's")
	}
	if len(resumed.History) != len(full.History) || resumed.BestEpoch != full.BestEpoch {
		t.Fatalf("history %d epochs (best %d) vs %d (best %d)", len(resumed.History), resumed.BestEpoch, len(full.History), full.BestEpoch)
	}
	for i := range full.History {
		a, b := full.History[i], resumed.History[i]
		if a.Loss != b.Loss || a.ValLoss != b.ValLoss {
			t.Fatalf("epoch %d: %+v vs %+v", i+1, a, b)
		}
	}
	// Running again on a finished checkpoint returns the same result at once.
	again, err := Train(context.Background(), cfg, train, val, TrainOptions{CheckpointDir: dir})
	if err != nil || !again.Resumed || !again.Best.Equal(full.Best) {
		t.Fatalf("rerun of a finished checkpoint: err=%v resumed=%v", err, again.Resumed)
	}
	// A different Config starts afresh.
	cfg.Seed++
	fresh, err := Train(context.Background(), cfg, train, val, TrainOptions{CheckpointDir: dir})
	if err != nil || fresh.Resumed {
		t.Fatalf("changed config: err=%v resumed=%v", err, fresh.Resumed)
	}
}

// TestEarlyStoppingRestoresBest: the validation triplets have positive and
// negative swapped, so every epoch that fits the training set makes the
// validation loss worse: training stops after patience epochs and returns
// the first epoch's weights.
func TestEarlyStoppingRestoresBest(t *testing.T) {
	cfg := smallConfig(12, 16, 8)
	cfg.Epochs, cfg.Patience, cfg.LR, cfg.Seed = 10, 2, 3e-3, 3
	train := clusterTriplets(1, 128, cfg.Input, false)
	val := clusterTriplets(2, 64, cfg.Input, true)
	var seen []EpochStats
	res, err := Train(context.Background(), cfg, train, val, TrainOptions{OnEpoch: func(s EpochStats) { seen = append(seen, s) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.History {
		t.Logf("epoch %d loss %.4f val %.4f", s.Epoch, s.Loss, s.ValLoss)
	}
	if !res.Stopped || len(res.History) != 3 || len(seen) != 3 || res.BestEpoch != 1 {
		t.Fatalf("stopped=%v after %d epochs, best %d; want stop after 3, best 1", res.Stopped, len(res.History), res.BestEpoch)
	}
	if !(res.History[2].ValLoss > res.History[1].ValLoss && res.History[1].ValLoss > res.History[0].ValLoss) {
		t.Fatal("validation loss did not get worse")
	}
	if got := Loss(res.Best, val, cfg.Margin); got != res.History[0].ValLoss {
		t.Fatalf("Best has val loss %g, epoch 1 had %g", got, res.History[0].ValLoss)
	}
}

func TestEarlyStoppingPatience(t *testing.T) {
	// Table of monitored losses → epochs run and best epoch, Keras semantics.
	tests := []struct {
		name      string
		losses    []float64
		patience  int
		epochs    int
		bestEpoch int
	}{
		{"improving", []float64{5, 4, 3, 2}, 2, 4, 4},
		{"plateau", []float64{5, 4, 4, 4, 1}, 2, 4, 2},
		{"late dip", []float64{5, 6, 4, 6, 7, 1}, 2, 5, 3},
		{"patience 0", []float64{5, 6, 1}, 0, 2, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			best, bestEpoch, wait, ran := math.Inf(1), 0, 0, 0
			for epoch, l := range tc.losses {
				ran++
				stop := false
				wait, best, bestEpoch, stop = earlyStop(wait, best, bestEpoch, l, epoch, tc.patience)
				if stop {
					break
				}
			}
			if ran != tc.epochs || bestEpoch != tc.bestEpoch {
				t.Fatalf("ran %d epochs, best %d; want %d, %d", ran, bestEpoch, tc.epochs, tc.bestEpoch)
			}
		})
	}
}

func TestTrainRejectsBadInput(t *testing.T) {
	cfg := smallConfig(4, 3)
	good := randTriplets(1, 5, 4)
	tests := []struct {
		name       string
		cfg        Config
		train, val Triplets
	}{
		{"dim mismatch", cfg, randTriplets(1, 5, 5), good},
		{"short data", cfg, Triplets{N: 5, Dim: 4, Data: good.Data[:10]}, good},
		{"empty train", cfg, Triplets{Dim: 4}, good},
		{"no layers", smallConfig(4), good, good},
		{"zero batch", func() Config { c := cfg; c.Batch = 0; return c }(), good, good},
	}
	for _, tc := range tests {
		if _, err := Train(context.Background(), tc.cfg, tc.train, tc.val, TrainOptions{}); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestUnreadableCheckpointStartsAfresh(t *testing.T) {
	cfg := smallConfig(16, 24, 12, 8)
	cfg.Epochs, cfg.Batch, cfg.LR = 2, 8, 1e-3
	train, val := randTriplets(1, 40, cfg.Input), randTriplets(2, 10, cfg.Input)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, CheckpointFile), []byte("not a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	var unreadable error
	got, err := Train(context.Background(), cfg, train, val, TrainOptions{CheckpointDir: dir,
		OnCheckpointError: func(err error) { unreadable = err },
		OnBatch: func(int, int, float64) {
			if unreadable == nil {
				t.Error("training started before the unreadable checkpoint was reported")
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if unreadable == nil || got.Resumed {
		t.Errorf("checkpoint error %v, Resumed %v", unreadable, got.Resumed)
	}
	want, err := Train(context.Background(), cfg, train, val, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Best.Equal(want.Best) {
		t.Error("training after an unreadable checkpoint differs from a fresh one")
	}
	if c, err := loadCheckpoint(dir); err != nil || c == nil {
		t.Errorf("the unreadable checkpoint was not replaced: %v", err)
	}
}
