//go:build !amd64

package metrics

// skipNotAbove: see scan_amd64.go; elsewhere nothing is skipped.
func skipNotAbove(s []float32, thr float32) int { return 0 }

// atLeast: see scan_amd64.go.
func atLeast(s []float32, tau float32, idx []int32) int { return atLeastGo(s, tau, idx, 0) }
