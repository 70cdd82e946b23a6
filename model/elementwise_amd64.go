package model

//go:noescape
func reluAVX2(y *float32, n int)

//go:noescape
func reluGradAVX2(y, grad, dz *float32, n int)

//go:noescape
func addToAVX2(s, x *float32, n int)

// vecHead is how many leading elements of n the AVX2 loops take.
func vecHead(n int) int {
	if !useAVX2 {
		return 0
	}
	return n &^ 7
}

func reluInPlace(y []float32) {
	if h := vecHead(len(y)); h > 0 {
		reluAVX2(&y[0], h)
		y = y[h:]
	}
	reluGo(y)
}

func reluGrad(y, g, dz []float32) {
	g, dz = g[:len(y)], dz[:len(y)]
	if h := vecHead(len(y)); h > 0 {
		reluGradAVX2(&y[0], &g[0], &dz[0], h)
		y, g, dz = y[h:], g[h:], dz[h:]
	}
	reluGradGo(y, g, dz)
}

func addTo(s, x []float32) {
	x = x[:len(s)]
	if h := vecHead(len(s)); h > 0 {
		addToAVX2(&s[0], &x[0], h)
		s, x = s[h:], x[h:]
	}
	addToGo(s, x)
}
