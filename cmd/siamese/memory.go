package main

import (
	"os"
	"runtime/debug"
)

// gcPercent is the garbage collector's target heap growth over the live heap
// (GOGC) unless the environment sets GOGC. The stages hold a few large,
// pointer-free arrays (the training set is 268 MB of float32 by default) and
// produce little garbage, so collecting at 50 % growth instead of Go's
// default 100 % costs next to nothing and keeps the train stage's heap near
// 1.5× its data instead of 2× (peak RSS of the default run: see bench/results/history.md).
const gcPercent = 50

func init() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
