package model

import (
	"fmt"
	"math"
)

// NaNLossError stops training when a batch's loss is NaN or ±Inf, as
// Keras's TerminateOnNaN does: no weights are kept from such a run.
type NaNLossError struct {
	Epoch, Batch int
	Loss         float64
	Weights      bool // a weight, not the loss, became Loss, by the end of Epoch
}

func (e *NaNLossError) Error() string {
	if e.Weights {
		return fmt.Sprintf("model: a weight became %v in epoch %d (TerminateOnNaN): no model is written; lower the learning rate or check the inputs",
			e.Loss, e.Epoch)
	}
	return fmt.Sprintf("model: the loss became %v in epoch %d, batch %d (TerminateOnNaN): no model is written; lower the learning rate or check the inputs",
		e.Loss, e.Epoch, e.Batch)
}

// InterruptedError is training stopped by its context in an epoch
// (1-based); a rerun with the same checkpoint directory resumes from the
// start of that epoch.
type InterruptedError struct {
	Epoch int
	Err   error
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("model: training interrupted in epoch %d: %v", e.Epoch, e.Err)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

// ResumesFrom says where a rerun picks up: "epoch 4".
func (e *InterruptedError) ResumesFrom() string { return fmt.Sprintf("epoch %d", e.Epoch) }

// checkFinite fails with a NaNLossError when training has made a weight
// NaN or ±Inf (a loss can stay finite while the weights are not, where a
// relu or a max(0, ·) swallows the NaN).
func checkFinite(w *Weights, epoch int) error {
	for _, v := range w.params() {
		for _, x := range v {
			if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
				return &NaNLossError{Epoch: epoch, Loss: f, Weights: true}
			}
		}
	}
	return nil
}
