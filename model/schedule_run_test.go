package model

import (
	"context"
	"math"
	"testing"
)

// A schedule spans the whole run, not one epoch: under one-cycle with a
// warm-up of 0.3 of four epochs the rate peaks in the second epoch and
// still trains in the last, so each epoch's loss moves. Were its length
// one epoch, the rate would fall to LR/25e4 after the first, and every
// later epoch would see the same weights and the same loss.
func TestScheduleSpansTheRun(t *testing.T) {
	for _, schedule := range []string{OneCycle, Cosine} {
		t.Run(schedule, func(t *testing.T) {
			cfg := smallConfig(8, 16, 8)
			cfg.Epochs, cfg.Patience, cfg.LR, cfg.Seed, cfg.Schedule, cfg.Warmup = 4, 10, 3e-3, 5, schedule, 0.3
			im := classImages(3, 200, cfg.Input, 4)
			res, err := Fit(context.Background(), cfg, Fixed(classTriplets(240, im)), classTriplets(40, im), TrainOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.History) != 4 {
				t.Fatalf("%d epochs ran, want 4", len(res.History))
			}
			for i := 1; i < len(res.History); i++ {
				prev, cur := res.History[i-1].Loss, res.History[i].Loss
				rel := math.Abs(cur-prev) / prev
				if !(rel > 1e-3) {
					t.Errorf("epoch %d's loss %g moved %.2g from epoch %d's %g: the rate has fallen to nothing", i+1, cur, rel, i, prev)
				}
			}
		})
	}
}
