// Package par runs the chunks of a job on the calling goroutine and a small
// pool of helper goroutines, for the short, frequent parallel loops of
// training: the products of package blas and the optimiser's update.
package par

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Training runs thousands of parallel loops a second (products, optimiser
// updates), each of a few hundred microseconds; starting goroutines for each
// costs a wake-up of an idle P (tens of microseconds) and the last goroutine
// started tends to sit in the caller's runnext slot until the caller blocks.
// Helpers instead spin (yielding) for a short while after each job, so
// back-to-back jobs find them awake, then park. A helper whose last job
// came after longer than that spins only briefly before the next: jobs far
// apart (evaluate's products, tens of milliseconds each, with other work
// between them that needs the CPU) gain nothing from it.
//
// The caller works on the job too, taking chunks from a shared counter; the
// chunks, not the goroutines that run them, fix which elements are summed
// how, so results do not depend on who runs what.

// helperSpin is how long an idle helper keeps polling for the next job,
// and helperSpinShort how long when its last job came after a longer wait.
const (
	helperSpin      = time.Millisecond
	helperSpinShort = 50 * time.Microsecond
)

// helperYield is how often a polling helper lets other goroutines run
// (runtime.Gosched takes the scheduler's global lock, which every
// goroutine switch of the caller needs too: yielding at every poll cost
// 15 % of the bf16 train stage's CPU time).
const helperYield = 20 * time.Microsecond

// waitSpin is how long the caller polls (yielding) for the last chunks of
// its job before it blocks until they are done. Blocking costs a wake-up,
// but polling longer burns the CPU that the helper finishing the last chunk
// may need when the machine is oversubscribed.
const waitSpin = 50 * time.Microsecond

type poolJob struct {
	run        func(chunk int)
	n          int
	next, done atomic.Int64
	finished   chan struct{} // closed when done reaches n
}

// work runs chunks of j until none is left.
func (j *poolJob) work() {
	for {
		c := int(j.next.Add(1) - 1)
		if c >= j.n {
			return
		}
		j.run(c)
		if j.done.Add(1) == int64(j.n) {
			close(j.finished)
		}
	}
}

// wait returns when every chunk of j is done.
func (j *poolJob) wait() {
	start := time.Now()
	for i := 0; j.done.Load() < int64(j.n); i++ {
		if i < 64 {
			continue
		}
		if i%32 == 0 && time.Since(start) > waitSpin {
			<-j.finished
			return
		}
		runtime.Gosched()
	}
}

var pool struct {
	busy     sync.Mutex // held by the caller whose job is published
	mu       sync.Mutex // guards helpers
	helpers  int
	job      atomic.Pointer[poolJob]
	seq      atomic.Uint64
	sleepers atomic.Int64
	wake     chan struct{}
}

func init() { pool.wake = make(chan struct{}, 64) }

// Chunks runs run(0..n-1) on the caller and up to helpers other goroutines
// and returns when all have finished. Which goroutine runs a chunk varies;
// what each chunk computes must not depend on it.
func Chunks(n, helpers int, run func(chunk int)) {
	helpers = min(helpers, cap(pool.wake))
	if n <= 1 || helpers < 1 || !pool.busy.TryLock() {
		// Another product is using the pool (concurrent callers): use
		// plain goroutines.
		spawnChunks(n, run)
		return
	}
	defer pool.busy.Unlock()
	pool.mu.Lock()
	for pool.helpers < helpers {
		pool.helpers++
		go helper()
	}
	pool.mu.Unlock()

	j := &poolJob{run: run, n: n, finished: make(chan struct{})}
	pool.job.Store(j)
	pool.seq.Add(1)
	woke := false
	for s := min(pool.sleepers.Load(), int64(n-1)); s > 0; s-- {
		select {
		case pool.wake <- struct{}{}:
			woke = true
		default:
		}
	}
	if woke {
		// A woken helper waits in this P's runnext slot, which idle Ps
		// do not steal from: yield so that it runs here while this
		// goroutine moves to another P.
		runtime.Gosched()
	}
	j.work()
	j.wait()
	pool.job.Store(nil) // don't keep the matrices reachable
}

func helper() {
	var seen uint64
	spin := helperSpin
	for {
		// Spin for a new job, yielding now and then, then park.
		idle := time.Now()
		start, yielded := idle, idle
		for i := 0; pool.seq.Load() == seen; i++ {
			if i%256 != 255 {
				continue
			}
			now := time.Now()
			if now.Sub(start) > spin {
				pool.sleepers.Add(1)
				if pool.seq.Load() == seen {
					<-pool.wake
				}
				pool.sleepers.Add(-1)
				start = time.Now()
				yielded = start
				continue
			}
			if now.Sub(yielded) > helperYield {
				runtime.Gosched()
				yielded = time.Now()
			}
		}
		// Spin long only while jobs come close together.
		spin = helperSpin
		if time.Since(idle) > helperSpin {
			spin = helperSpinShort
		}
		seen = pool.seq.Load()
		if j := pool.job.Load(); j != nil {
			j.work()
		}
	}
}

// spawnChunks runs run(0..n-1), each on its own goroutine.
func spawnChunks(n int, run func(chunk int)) {
	// Every chunk runs on its own goroutine while this one waits: a chunk
	// run here would leave the last goroutine started in this P's runnext
	// slot, where idle Ps rarely steal it, serialising the work.
	var wg sync.WaitGroup
	wg.Add(n)
	for c := range n {
		go func() {
			defer wg.Done()
			run(c)
		}()
	}
	wg.Wait()
}
