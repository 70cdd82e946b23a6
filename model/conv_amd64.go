package model

//go:noescape
func poolRowAVX2(top, bottom, bias, out *float32, arg *uint8, windows, c, n int)

//go:noescape
func poolGradRowAVX2(arg *uint8, grad, top, bottom *float32, windows, c, n int)

//go:noescape
func liveSumsAVX2(grad, out, acc *float32, rows, c, n int)

// poolRow pools one row of windows (see poolRowGo), the first channels of
// each window eight at a time where the CPU has AVX2, with poolRowGo's bits.
func poolRow(top, bottom, bias, out []float32, arg []uint8) {
	c := len(bias)
	windows := len(out) / c
	top, bottom, arg = top[:2*len(out)], bottom[:2*len(out)], arg[:len(out)]
	h := vecHead(c)
	if h > 0 && windows > 0 {
		poolRowAVX2(&top[0], &bottom[0], &bias[0], &out[0], &arg[0], windows, c, h)
	}
	if h < c {
		poolRowGo(top, bottom, bias, out, arg, h)
	}
}

// poolGradRow is poolGradRowGo, the first channels of each window eight at
// a time where the CPU has AVX2.
func poolGradRow(arg []uint8, g, top, bottom []float32, c int) {
	windows := len(g) / c
	arg, top, bottom = arg[:len(g)], top[:2*len(g)], bottom[:2*len(g)]
	h := vecHead(c)
	if h > 0 && windows > 0 {
		poolGradRowAVX2(&arg[0], &g[0], &top[0], &bottom[0], windows, c, h)
	}
	if h < c {
		poolGradRowGo(arg, g, top, bottom, c, h)
	}
}

// liveSumsRows is liveSumsGo from channel 0, the first channels eight at a
// time where the CPU has AVX2.
func liveSumsRows(g, out []float32, c, rows int, acc []float32) {
	g, out = g[:(rows-1)*c+len(acc)], out[:(rows-1)*c+len(acc)]
	h := vecHead(len(acc))
	if h > 0 {
		liveSumsAVX2(&g[0], &out[0], &acc[0], rows, c, h)
	}
	if h < len(acc) {
		liveSumsGo(g, out, c, rows, acc, h)
	}
}
