//go:build purego || (cgo && openblas)

package blas

const purego = true // the assembly kernel is not built
