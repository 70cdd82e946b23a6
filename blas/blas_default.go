//go:build !(cgo && openblas)

package blas

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The default build installs impl (gonum with this package's Sgemm) in
// gorgonia and tensor, which otherwise default to plain gonum.
func init() {
	G.Use(impl)
	tensor.Use(impl)
	useInGonum()
}
