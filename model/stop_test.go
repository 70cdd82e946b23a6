package model

import (
	"context"
	"errors"
	"math"
	"testing"
)

// TestTerminateOnNaN: a batch whose loss is not finite stops training with
// an error and no weights, as Keras's TerminateOnNaN does.
func TestTerminateOnNaN(t *testing.T) {
	cfg := smallConfig(4, 8, 4)
	cfg.Epochs = 3
	tr := Triplets{N: 8, Dim: 4, Data: make([]float32, 8*3*4)}
	for i := range tr.Data {
		tr.Data[i] = float32(i%7) - 3
	}
	tr.Data[5] = float32(math.Inf(1))
	res, err := Train(context.Background(), cfg, tr, Triplets{}, TrainOptions{})
	var nan *NaNLossError
	if !errors.As(err, &nan) || nan.Epoch != 1 {
		t.Fatalf("Train on data with Inf: %v (result %+v)", err, res)
	}
	if len(res.History) != 0 {
		t.Errorf("an epoch was recorded: %+v", res.History)
	}
}

// TestInterruptedSaysWhereItResumes: a cancelled training names the epoch
// a rerun starts from.
func TestInterruptedSaysWhereItResumes(t *testing.T) {
	cfg := smallConfig(4, 8, 4)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tr := Triplets{N: 8, Dim: 4, Data: make([]float32, 8*3*4)}
	_, err := Train(ctx, cfg, tr, Triplets{}, TrainOptions{})
	var ie *InterruptedError
	if !errors.As(err, &ie) || ie.ResumesFrom() != "epoch 1" || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Train: %v", err)
	}
}
