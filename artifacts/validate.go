package artifacts

import (
	"fmt"
	"math"
	"strings"
)

// Validators for the arrays a stage reads, called where the data enters
// the stage: each names the file and the first offending element.

// CheckFinite fails on the first NaN or ±Inf in v, an array read from
// name whose rows hold rowLen elements (0: do not report rows).
func CheckFinite[T float32 | float64](name string, v []T, rowLen int) error {
	for i, x := range v {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			at := fmt.Sprintf("element %d", i)
			if rowLen > 0 {
				at = fmt.Sprintf("row %d, element %d", i/rowLen, i%rowLen)
			}
			return fmt.Errorf("%s: %s is %v: the values must be finite", name, at, f)
		}
	}
	return nil
}

// CheckLabels fails on the first label that is not one of classes
// classes (0 to classes-1).
func CheckLabels(name string, labels []uint8, classes int) error {
	for i, l := range labels {
		if int(l) >= classes {
			return fmt.Errorf("%s: label %d of row %d is not one of the %d classes (0 to %d)", name, l, i, classes, classes-1)
		}
	}
	return nil
}

// CheckShape fails unless shape is want, where a negative entry of want
// matches any length of that axis. what describes the want in words, as
// "(N, 3, 28, 28)".
func CheckShape(name string, shape []int, what string, want ...int) error {
	ok := len(shape) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = want[i] < 0 || shape[i] == want[i]
	}
	if !ok {
		return fmt.Errorf("%s: shape %s, want %s", name, shapeRepr(shape), what)
	}
	return nil
}

// CheckDType fails unless the open .npy file holds one of the dtypes.
func CheckDType(f *NPYFile, dtypes ...string) error {
	for _, d := range dtypes {
		if f.DType() == d {
			return nil
		}
	}
	return fmt.Errorf("%s: dtype %s, want %s", f.path, f.DType(), strings.Join(dtypes, " or "))
}
