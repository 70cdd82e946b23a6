package par

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestChunksRunsEachOnce: every chunk runs exactly once before Chunks
// returns, whatever the helper count, also with concurrent callers (one
// gets the pool, the others plain goroutines).
func TestChunksRunsEachOnce(t *testing.T) {
	for _, tc := range []struct{ n, helpers int }{
		{0, 1}, {1, 0}, {1, 3}, {2, 1}, {7, 1}, {64, 3}, {1000, 7}, {5, 100},
	} {
		var wg sync.WaitGroup
		for caller := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				counts := make([]atomic.Int32, tc.n)
				Chunks(tc.n, tc.helpers, func(c int) { counts[c].Add(1) })
				for c := range counts {
					if got := counts[c].Load(); got != 1 {
						t.Errorf("n=%d helpers=%d caller %d: chunk %d ran %d times", tc.n, tc.helpers, caller, c, got)
					}
				}
			}()
		}
		wg.Wait()
	}
}
