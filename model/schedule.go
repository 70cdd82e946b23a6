package model

import (
	"fmt"
	"math"
)

// Learning-rate schedules, by step over the whole run (Epochs × batches per
// epoch): a resumed run recomputes the rate from Adam's step count.
const (
	// Constant keeps Config.LR, as the notebook does.
	Constant = "constant"
	// Cosine warms up linearly from 0 to LR over the first Warmup of the
	// steps, then decays to 0 along a half cosine.
	Cosine = "cosine"
	// OneCycle is PyTorch's OneCycleLR (cosine annealing, without cycling
	// the momentum): from LR/25 up to LR over the first Warmup of the steps,
	// then down to LR/25e4.
	OneCycle = "one-cycle"
)

// Schedules lists the learning-rate schedules.
var Schedules = []string{Constant, Cosine, OneCycle}

func checkSchedule(c Config) error {
	switch c.Schedule {
	case "", Constant:
		return nil
	case Cosine, OneCycle:
		if !(c.Warmup >= 0 && c.Warmup < 1) {
			return fmt.Errorf("model: warm-up must be a fraction in [0, 1), got %g", c.Warmup)
		}
		return nil
	}
	return fmt.Errorf("model: unknown learning-rate schedule %q", c.Schedule)
}

// lrAt returns the learning rate of step t (0-based) of total steps.
func (c Config) lrAt(t, total int) float64 {
	if c.Schedule == "" || c.Schedule == Constant || total <= 0 {
		return c.LR
	}
	warm := c.Warmup * float64(total)
	s := float64(t)
	anneal := func(from, to, pct float64) float64 { return to + (from-to)/2*(1+math.Cos(math.Pi*min(1, pct))) }
	switch c.Schedule {
	case Cosine:
		if s < warm {
			return c.LR * (s + 1) / math.Ceil(warm)
		}
		return anneal(c.LR, 0, (s-warm)/max(1, float64(total)-warm))
	case OneCycle:
		if s < warm {
			return anneal(c.LR/25, c.LR, s/warm)
		}
		return anneal(c.LR, c.LR/25e4, (s-warm)/max(1, float64(total)-warm))
	}
	return c.LR
}
