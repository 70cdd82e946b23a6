package pipeline

import "math"

// Need is what a stage will take to run, as its Spec's Resources estimates
// it from its params and the sizes of its inputs: the bytes of each output
// it writes, by output name, and its peak memory. The runner refuses a run
// whose needs exceed the free disk or memory before any stage runs.
type Need struct {
	Outputs map[string]int64
	Memory  int64
}

// Sizes are the bytes of a stage's inputs, by input name: as they are on
// disk, or as the Resources of the stage that will write them estimates.
// An input whose size is not known is absent.
type Sizes map[string]int64

// MulSize multiplies sizes, saturating at math.MaxInt64 instead of
// overflowing: an absurd param makes an absurd need, never a negative one.
// A negative factor counts as zero.
func MulSize(factors ...int64) int64 {
	p := int64(1)
	for _, f := range factors {
		if f <= 0 {
			return 0
		}
		if p > math.MaxInt64/f {
			return math.MaxInt64
		}
		p *= f
	}
	return p
}

// AddSize adds sizes, saturating at math.MaxInt64.
func AddSize(terms ...int64) int64 {
	s := int64(0)
	for _, t := range terms {
		if t > 0 && s > math.MaxInt64-t {
			return math.MaxInt64
		}
		s += max(t, 0)
	}
	return s
}
