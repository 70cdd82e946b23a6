package model

import "math"

// The element-wise loops of the training step. reluInPlace, reluGrad and
// addTo (elementwise_amd64.go, elementwise_other.go) run them eight floats at
// a time where the CPU has AVX2, with the same bits as these Go loops, which
// take the rest.

// reluGo sets every element with the sign bit set (negatives, −0) to +0,
// without branches: signs are unpredictable.
func reluGo(y []float32) {
	for i, v := range y {
		b := math.Float32bits(v)
		y[i] = math.Float32frombits(b &^ uint32(int32(b)>>31))
	}
}

// reluGradGo writes dz = g where y > 0 and 0 elsewhere, for y a relu output
// (so +0 or positive), without branches.
func reluGradGo(y, g, dz []float32) {
	g, dz = g[:len(y)], dz[:len(y)]
	for i, v := range y {
		b := math.Float32bits(v)
		mask := uint32(-int32(b) >> 31) // all ones iff 0 < b < 2³¹
		dz[i] = math.Float32frombits(math.Float32bits(g[i]) & mask)
	}
}

// addToGo adds x to s element by element.
func addToGo(s, x []float32) {
	x = x[:len(s)]
	for i := range s {
		s[i] += x[i]
	}
}
