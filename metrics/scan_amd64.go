package metrics

import "golang.org/x/sys/cpu"

//go:noescape
func aboveAVX2(s *float32, n int, thr float32) int

//go:noescape
func atLeastAVX512(s *float32, n int, tau float32, idx *int32) int

var (
	useAVX2   = cpu.X86.HasAVX2
	useAVX512 = cpu.X86.HasAVX512F
)

// skipNotAbove returns how many leading elements of s can be skipped
// because none is greater than thr: the start of the first block of eight
// that holds one, or where the vector loop stops. The caller checks the
// rest one by one.
func skipNotAbove(s []float32, thr float32) int {
	if !useAVX2 || len(s) < 8 {
		return 0
	}
	return aboveAVX2(&s[0], len(s)&^7, thr)
}

// atLeast writes to idx (len(idx) ≥ len(s)) the indices j of the elements
// of s with s[j] ≥ tau, in increasing order, and returns how many.
func atLeast(s []float32, tau float32, idx []int32) int {
	n, j := 0, 0
	if useAVX512 && len(s) >= 16 {
		j = len(s) &^ 15
		n = atLeastAVX512(&s[0], j, tau, &idx[0])
	}
	return n + atLeastGo(s[j:], tau, idx[n:], j)
}
