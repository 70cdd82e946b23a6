// Package blas selects the BLAS implementation used by gorgonia, gorgonia's
// tensor package and this project's model package.
//
// Without the openblas build tag the pure-Go gonum implementation is used,
// with its Sgemm replaced by this package's packed, register-blocked and
// parallel one (see sgemm.go): AVX-512 or AVX2+FMA assembly on amd64 CPUs
// that have it and a Go micro-kernel on other architectures; amd64 CPUs
// without AVX2+FMA keep gonum's Sgemm.
// Built with `-tags openblas` (and cgo enabled) the package links against
// OpenBLAS through gonum's netlib binding, installs it with gorgonia.Use at
// init and pins OpenBLAS's thread count to runtime.GOMAXPROCS (or to
// OPENBLAS_NUM_THREADS when that is set explicitly).
//
//	go test ./model/                 # gonum
//	go test -tags openblas ./model/  # OpenBLAS (needs cgo and libopenblas-dev)
//
// The selected implementation is also installed as gonum's global one
// (blas32.Use, blas64.Use), so that gonum's mat, stat and lapack use it too.
// Every matrix product of the program goes through it: call Float32 (or
// Impl) rather than gonum's blas32 functions.
//
// Import it (blank or for Name) before building gorgonia graphs; package
// model does.
package blas

import (
	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	G "gorgonia.org/gorgonia"
)

var (
	impl    G.BLAS = sgemmImpl{}
	name           = "gonum"
	threads        = func() int { return 0 }
)

// useInGonum makes impl gonum's global implementation too, so that gonum's
// mat, stat and lapack (PCA's SVD, for one) and any blas32/blas64 call
// multiply with the same backend as gorgonia and this project's code: the
// choice is made once, here.
func useInGonum() {
	blas32.Use(impl)
	blas64.Use(impl)
}

// Name reports the active implementation: "openblas" or "gonum" (gonum with
// this package's Sgemm).
func Name() string { return name }

// Float32 returns the active implementation's single-precision routines.
func Float32() gblas.Float32 { return impl }

// Impl returns the active implementation, as installed in gorgonia.
func Impl() G.BLAS { return impl }

// Threads reports the number of threads the BLAS library was told to use;
// 0 for the gonum implementation, which parallelises over GOMAXPROCS goroutines.
func Threads() int { return threads() }
