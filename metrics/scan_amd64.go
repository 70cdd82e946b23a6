package metrics

import "golang.org/x/sys/cpu"

//go:noescape
func aboveAVX2(s *float32, n int, thr float32) int

var useAVX2 = cpu.X86.HasAVX2

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
