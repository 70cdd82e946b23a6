package metrics

// atLeastGo is atLeast in Go, for indices from j0: every index is written,
// and kept when its element is at or above tau.
func atLeastGo(s []float32, tau float32, idx []int32, j0 int) int {
	n := 0
	for j, v := range s {
		idx[n] = int32(j0 + j)
		if v >= tau {
			n++
		}
	}
	return n
}
