package notebook

import (
	"runtime"
	"sync"
)

// scale[i] is float64(i)/255 — numpy's true division of a uint8 by 255,
// exactly (multiplying by 1/255 would differ in the last bit).
var scale = func() (t [256]float64) {
	for i := range t {
		t[i] = float64(i) / 255
	}
	return t
}()

// scaleParallel sets dst[i] = scale[src[i]], split across GOMAXPROCS
// goroutines when the slice is large.
func scaleParallel(src []uint8, dst []float64) {
	parts := runtime.GOMAXPROCS(0)
	if parts < 2 || len(src) < 1<<16 {
		scaleInto(src, dst)
		return
	}
	var wg sync.WaitGroup
	step := (len(src) + parts - 1) / parts
	for lo := 0; lo < len(src); lo += step {
		hi := min(lo+step, len(src))
		wg.Go(func() { scaleInto(src[lo:hi], dst[lo:hi]) })
	}
	wg.Wait()
}

func scaleInto(src []uint8, dst []float64) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = scale[v]
	}
}
