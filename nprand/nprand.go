// Package nprand reproduces, bit for bit, the parts of numpy's legacy
// np.random.RandomState (MT19937) that the pipeline uses, plus the index
// logic of sklearn's train_test_split.
//
// Algorithms followed (numpy >= 1.17 legacy path, verified against numpy
// 1.24 and sklearn 1.2):
//
//   - Seeding with an integer: mt19937_seed (Matsumoto–Nishimura
//     init_genrand), pos = 624 so the first draw regenerates the key.
//   - Raw output: mt19937_next with the standard tempering.
//   - RandomState.randint(0, n) / choice(n): random_bounded_uint64_fill with
//     use_masked=true: rng = n-1; rng == 0 draws nothing; rng == 2^32-1 takes
//     one raw 32-bit word; rng < 2^32 rejects 32-bit words masked to the
//     smallest all-ones mask >= rng; larger ranges reject 64-bit words
//     (first 32-bit draw in the high half).
//   - shuffle / permutation: backward Fisher–Yates, i = n-1 .. 1,
//     j = random_interval(i) (same masked rejection as above).
//   - random_sample: (a>>5 * 2^26 + b>>6) / 2^53 from two 32-bit draws.
//   - train_test_split: _validate_shuffle_split then ShuffleSplit, i.e.
//     permutation(n) of RandomState(seed); test = perm[:n_test],
//     train = perm[n_test:n_test+n_train].
//
// A RandomState is not safe for concurrent use.
package nprand

import "fmt"

const (
	stateLen  = 624 // MT19937 N
	shiftM    = 397 // MT19937 M
	matrixA   = 0x9908b0df
	upperMask = 0x80000000
	lowerMask = 0x7fffffff
)

// RandomState is numpy's legacy RandomState over MT19937.
type RandomState struct {
	key [stateLen]uint32
	pos int
	// hasGauss/gauss mirror numpy's cached Gaussian so that State round-trips
	// numpy's get_state(); no Gaussian sampler is implemented here.
	hasGauss int
	gauss    float64
}

// State is a checkpoint of a RandomState, laid out like numpy's
// get_state() tuple ('MT19937', key, pos, has_gauss, cached_gaussian).
type State struct {
	Key            [stateLen]uint32 `json:"key"`
	Pos            int              `json:"pos"`
	HasGauss       int              `json:"has_gauss"`
	CachedGaussian float64          `json:"cached_gaussian"`
}

// New returns a generator equal to np.random.RandomState(seed)
// (equivalently np.random.seed(seed)).
func New(seed uint32) *RandomState {
	r := &RandomState{}
	r.Seed(seed)
	return r
}

// Seed reseeds r exactly like RandomState.seed(seed) for an integer seed.
func (r *RandomState) Seed(seed uint32) {
	s := seed
	for i := 0; i < stateLen; i++ {
		r.key[i] = s
		s = 1812433253*(s^(s>>30)) + uint32(i+1)
	}
	r.pos = stateLen
	r.hasGauss = 0
	r.gauss = 0
}

// State returns a copy of the generator state.
func (r *RandomState) State() State {
	return State{Key: r.key, Pos: r.pos, HasGauss: r.hasGauss, CachedGaussian: r.gauss}
}

// SetState restores a state obtained from State (or from numpy's
// get_state()). It returns an error, leaving r unchanged, if Pos is outside
// [0, 624].
func (r *RandomState) SetState(s State) error {
	if s.Pos < 0 || s.Pos > stateLen {
		return fmt.Errorf("nprand: state pos %d out of range [0, %d]", s.Pos, stateLen)
	}
	r.key = s.Key
	r.pos = s.Pos
	r.hasGauss = s.HasGauss
	r.gauss = s.CachedGaussian
	return nil
}

// generate refills the key (numpy's mt19937_gen).
func (r *RandomState) generate() {
	k := &r.key
	var i int
	for i = 0; i < stateLen-shiftM; i++ {
		y := (k[i] & upperMask) | (k[i+1] & lowerMask)
		k[i] = k[i+shiftM] ^ (y >> 1) ^ (-(y & 1) & matrixA)
	}
	for ; i < stateLen-1; i++ {
		y := (k[i] & upperMask) | (k[i+1] & lowerMask)
		k[i] = k[i+shiftM-stateLen] ^ (y >> 1) ^ (-(y & 1) & matrixA)
	}
	y := (k[stateLen-1] & upperMask) | (k[0] & lowerMask)
	k[stateLen-1] = k[shiftM-1] ^ (y >> 1) ^ (-(y & 1) & matrixA)
	r.pos = 0
}

// Uint32 returns the next raw 32-bit MT19937 output (numpy's mt19937_next).
func (r *RandomState) Uint32() uint32 {
	if r.pos >= stateLen {
		r.generate()
	}
	y := r.key[r.pos]
	r.pos++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// Uint64 returns two raw outputs joined as numpy's next_uint64 does: the
// first draw is the high 32 bits.
func (r *RandomState) Uint64() uint64 {
	hi := uint64(r.Uint32())
	return hi<<32 | uint64(r.Uint32())
}

// Float64 returns a double in [0, 1) exactly like random_sample()
// (53 bits from two draws).
func (r *RandomState) Float64() float64 {
	a := r.Uint32() >> 5
	b := r.Uint32() >> 6
	return (float64(a)*67108864.0 + float64(b)) / 9007199254740992.0
}

// mask returns the smallest all-ones bit mask >= v.
func mask(v uint64) uint64 {
	v |= v >> 1
	v |= v >> 2
	v |= v >> 4
	v |= v >> 8
	v |= v >> 16
	v |= v >> 32
	return v
}

// Interval returns a uniform value in [0, max] by masked rejection,
// exactly as numpy's random_interval(max) (used by shuffle) and as
// random_bounded_uint64_fill with use_masked (used by legacy randint):
// no draw when max == 0; 32-bit words when max < 2^32; otherwise 64-bit
// words from Uint64.
func (r *RandomState) Interval(max uint64) uint64 {
	if max == 0 {
		return 0
	}
	m := mask(max)
	if max <= 0xffffffff {
		// max == 0xffffffff yields one raw word in both numpy code paths,
		// which the loop below also does (mask is all ones, never rejects).
		m32, max32 := uint32(m), uint32(max)
		for {
			if v := r.Uint32() & m32; v <= max32 {
				return uint64(v)
			}
		}
	}
	for {
		if v := r.Uint64() & m; v <= max {
			return v
		}
	}
}

// Intn returns the same value as legacy RandomState.randint(0, n) (default
// int64 dtype, single draw). It panics if n <= 0, as rand.Intn does
// (numpy raises ValueError).
func (r *RandomState) Intn(n int) int {
	if n <= 0 {
		panic("nprand: invalid argument to Intn: n <= 0")
	}
	return int(r.Interval(uint64(n - 1)))
}

// Choice returns the index that legacy RandomState.choice(a) picks for a
// population of length n (size=None, replace=True, p=None). numpy
// implements that as randint(0, n), so Choice is identical to Intn and
// consumes the same draws. It panics if n <= 0 (numpy raises ValueError).
func (r *RandomState) Choice(n int) int {
	if n <= 0 {
		panic("nprand: invalid argument to Choice: n <= 0")
	}
	return int(r.Interval(uint64(n - 1)))
}

// ChoiceFrom returns pop[r.Choice(len(pop))], i.e. RandomState.choice(pop).
// It panics if pop is empty.
func (r *RandomState) ChoiceFrom(pop []int) int {
	return pop[r.Choice(len(pop))]
}

// Shuffle permutes x in place exactly like RandomState.shuffle on a 1-d
// array: for i = len(x)-1 down to 1, swap x[i] with x[Interval(i)].
func (r *RandomState) Shuffle(x []int) {
	for i := len(x) - 1; i > 0; i-- {
		j := r.Interval(uint64(i))
		x[i], x[j] = x[j], x[i]
	}
}

// Permutation returns RandomState.permutation(n): a shuffled 0..n-1.
// Like numpy (np.arange of a non-positive n is empty) it returns an empty
// slice and consumes no draws when n <= 0.
func (r *RandomState) Permutation(n int) []int {
	if n <= 0 {
		return []int{}
	}
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	r.Shuffle(p)
	return p
}
