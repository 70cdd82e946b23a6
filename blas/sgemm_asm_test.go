//go:build !purego && !(cgo && openblas)

package blas

const purego = false
