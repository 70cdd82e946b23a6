//go:build !amd64

package model

func reluInPlace(y []float32)     { reluGo(y) }
func reluGrad(y, g, dz []float32) { reluGradGo(y, g, dz) }
func addTo(s, x []float32)        { addToGo(s, x) }
