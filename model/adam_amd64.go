package model

import "golang.org/x/sys/cpu"

//go:noescape
func adamAVX2(w, grad, m, v *float32, n int, c *adamConsts)

var useAVX2 = cpu.X86.HasAVX2

// adamKernel updates w, m, v from g; all the same length.
func adamKernel(w, g, m, v []float32, c *adamConsts) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	head := 0
	if useAVX2 && n >= 8 {
		head = n &^ 7
		adamAVX2(&w[0], &g[0], &m[0], &v[0], head, c)
	}
	adamScalar(w[head:], g[head:], m[head:], v[head:], c)
}
