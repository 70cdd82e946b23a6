//go:build cgo && openblas

package blas

/*
#cgo LDFLAGS: -lopenblas
extern void openblas_set_num_threads(int);
extern int openblas_get_num_threads(void);
*/
import "C"

import (
	"os"
	"runtime"
	"strconv"

	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func init() {
	// One OpenBLAS thread per Go processor: more would oversubscribe the
	// cores the Go scheduler already uses. An explicit OPENBLAS_NUM_THREADS
	// wins; OPENBLAS_CORETYPE from the environment is left to OpenBLAS.
	n := runtime.GOMAXPROCS(0)
	if v, err := strconv.Atoi(os.Getenv("OPENBLAS_NUM_THREADS")); err == nil && v > 0 {
		n = v
	}
	C.openblas_set_num_threads(C.int(n))
	impl = netlib.Implementation{}
	name = "openblas"
	threads = func() int { return int(C.openblas_get_num_threads()) }
	G.Use(impl) // also calls tensor.Use
	tensor.Use(impl)
	useInGonum()
}
