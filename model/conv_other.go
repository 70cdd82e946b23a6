//go:build !amd64

package model

func poolRow(top, bottom, bias, out []float32, arg []uint8) {
	poolRowGo(top, bottom, bias, out, arg, 0)
}

func poolGradRow(arg []uint8, g, top, bottom []float32, c int) {
	poolGradRowGo(arg, g, top, bottom, c, 0)
}
