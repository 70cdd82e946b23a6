//go:build !amd64

package model

var useAVX2 = false

func adamKernel(w, g, m, v []float32, c *adamConsts) { adamScalar(w, g, m, v, c) }
