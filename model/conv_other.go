//go:build !amd64

package model

func poolRow(top, bottom, bias, out []float32, arg []uint8) {
	poolRowGo(top, bottom, bias, out, arg, 0)
}

func poolGradRow(arg []uint8, g, top, bottom []float32, c int) {
	poolGradRowGo(arg, g, top, bottom, c, 0)
}

func liveSumsRows(g, out []float32, c, rows int, acc []float32) {
	liveSumsGo(g, out, c, rows, acc, 0)
}
