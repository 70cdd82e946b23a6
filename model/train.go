package model

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// EpochStats reports one epoch. Epoch counts from 1. Loss is the training
// loss as Keras reports it: the mean of the batch losses (computed before
// each batch's update), each weighted by its batch size. ValLoss is the mean
// loss over the validation set after the epoch (NaN without one). Seconds is
// the wall time of the epoch including validation.
type EpochStats struct {
	Epoch   int
	Loss    float64
	ValLoss float64
	Seconds float64
}

// TrainOptions are Train's optional hooks.
type TrainOptions struct {
	// CheckpointDir, if set, holds a checkpoint written atomically after
	// every epoch (weights, optimiser state, epoch, early-stopping state).
	// Train resumes from it when it was made with the same Config and data;
	// otherwise it starts afresh and overwrites it.
	CheckpointDir string
	// OnCheckpointError is called, before training starts afresh, with why
	// the checkpoint in CheckpointDir could not be read.
	OnCheckpointError func(error)
	// OnEpoch is called after each epoch.
	OnEpoch func(EpochStats)
	// OnBatch is called after each batch with its 1-based number, the
	// number of batches in the epoch and the epoch's running loss.
	OnBatch func(batch, batches int, runningLoss float64)
}

// Result is the outcome of Train.
type Result struct {
	Best      *Weights     // weights of the best epoch (restored, as Keras's restore_best_weights)
	History   []EpochStats // all epochs run, including those before a resume
	BestEpoch int          // 1-based, the epoch of Best (the last with Config.KeepLast); 0 if no epoch ran
	Resumed   bool         // whether training continued from a checkpoint
	Stopped   bool         // whether early stopping ended training
}

// permutation returns the order of the n training triplets in epoch (0-based):
// a Fisher–Yates shuffle from a PCG seeded by (seed, epoch), so a resumed run
// needs nothing but the epoch number to reproduce it.
func permutation(seed uint64, epoch, n int) []int {
	r := rand.New(rand.NewPCG(seed, shuffleStream+uint64(epoch)))
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(r.Uint64N(uint64(i + 1)))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// Train fits a fresh network (or resumes a checkpointed one) on train,
// validating on val after every epoch, with early stopping on the validation
// loss (the training loss if val is empty) and the best weights restored.
// It honours ctx between batches; when interrupted it returns the result so
// far (Best may be nil) together with ctx's error.
func Train(ctx context.Context, cfg Config, train, val Triplets, opt TrainOptions) (*Result, error) {
	return Fit(ctx, cfg, Fixed(train), val, opt)
}

// Fit is Train for any training mode: the mode's batches, the same loop.
func Fit(ctx context.Context, cfg Config, mode Mode, val TripletSource, opt TrainOptions) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := mode.check(cfg); err != nil {
		return nil, err
	}
	if val == nil {
		val = Triplets{Dim: cfg.Input}
	}
	valN, valDim := val.Shape()
	if err := val.Check(); err != nil && valN != 0 {
		return nil, fmt.Errorf("validation set: %w", err)
	}
	if mode.Dim() != cfg.Input || (valN > 0 && valDim != cfg.Input) {
		return nil, fmt.Errorf("model: data dimension %d/%d, config Input %d", mode.Dim(), valDim, cfg.Input)
	}

	key := mode.key().withVal(val)
	ck := &checkpoint{Version: checkpointVersion, Config: cfg, Data: key, BestLoss: math.Inf(1)}
	res := &Result{}
	if opt.CheckpointDir != "" {
		// A checkpoint that cannot be read is started afresh and replaced.
		old, err := loadCheckpoint(opt.CheckpointDir)
		if err != nil && opt.OnCheckpointError != nil {
			opt.OnCheckpointError(err)
		}
		if err == nil && old != nil && old.matches(cfg, key) {
			ck, res.Resumed = old, true
		}
	}
	if ck.Weights == nil {
		ck.Weights = InitWeights(cfg)
		ck.Best = ck.Weights.Clone()
	}
	cur := ck.Weights
	adam := NewAdam(cfg)
	adam.State = ck.Adam
	finish := func() *Result {
		res.Best = ck.Best.Clone()
		res.History = append([]EpochStats(nil), ck.History...)
		res.BestEpoch = ck.BestEpoch
		if cfg.KeepLast {
			res.BestEpoch = ck.Epoch
		}
		res.Stopped = ck.Stopped
		return res
	}
	if ck.Stopped || ck.Epoch >= cfg.Epochs {
		return finish(), nil
	}

	n, err := mode.net(cur, cfg)
	if err != nil {
		return nil, err
	}
	defer n.close()

	saver := &checkpointWriter{dir: opt.CheckpointDir}
	defer saver.wait() // returns after the last checkpoint is written, whatever the outcome
	for epoch := ck.Epoch; epoch < cfg.Epochs; epoch++ {
		start := time.Now()
		batches := mode.epoch(cfg, epoch)
		var sum float64
		var seen int
		for b := 0; b < batches; b++ {
			if err := ctx.Err(); err != nil {
				return finish(), &InterruptedError{Epoch: epoch + 1, Err: err}
			}
			size := mode.load(n, b)
			loss, err := n.run()
			if err != nil {
				return finish(), fmt.Errorf("model: epoch %d batch %d: %w", epoch+1, b+1, err)
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return finish(), &NaNLossError{Epoch: epoch + 1, Batch: b + 1, Loss: loss}
			}
			adam.LR = cfg.lrAt(adam.State.T, cfg.Epochs*batches)
			if err := adam.Step(n.vgs); err != nil {
				return finish(), err
			}
			sum += loss * float64(size)
			seen += size
			if opt.OnBatch != nil {
				opt.OnBatch(b+1, batches, sum/float64(seen))
			}
		}
		if err := checkFinite(cur, epoch+1); err != nil {
			return finish(), err
		}
		st := EpochStats{Epoch: epoch + 1, Loss: sum / float64(seen), ValLoss: math.NaN()}
		monitor := st.Loss
		if valN > 0 {
			st.ValLoss = Loss(cur, val, cfg.Margin)
			monitor = st.ValLoss
		}
		st.Seconds = time.Since(start).Seconds()

		ck.Wait, ck.BestLoss, ck.BestEpoch, ck.Stopped = earlyStop(ck.Wait, ck.BestLoss, ck.BestEpoch, monitor, epoch, cfg.Patience)
		if ck.BestEpoch == epoch+1 || cfg.KeepLast {
			if err := ck.Best.CopyFrom(cur); err != nil {
				return finish(), err
			}
		}
		ck.Epoch = epoch + 1
		ck.Adam = adam.State
		ck.History = append(ck.History, st)
		if opt.CheckpointDir != "" {
			if err := saver.save(ck); err != nil {
				return finish(), err
			}
		}
		if opt.OnEpoch != nil {
			opt.OnEpoch(st)
		}
		if ck.Stopped {
			break
		}
	}
	if err := saver.wait(); err != nil {
		return finish(), err
	}
	return finish(), nil
}

// earlyStop is Keras's EarlyStopping(patience, min_delta=0) after epoch
// (0-based) with monitored loss monitor: it returns the new wait count, best
// loss and 1-based best epoch, and whether to stop. An epoch that improves
// on the best never stops training.
func earlyStop(wait int, best float64, bestEpoch int, monitor float64, epoch, patience int) (int, float64, int, bool) {
	wait++
	if monitor < best {
		return 0, monitor, epoch + 1, false
	}
	return wait, best, bestEpoch, wait >= patience && epoch > 0
}
