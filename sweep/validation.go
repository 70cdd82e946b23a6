package sweep

import (
	"fmt"
	"math"
	"strings"

	"github.com/siamese-pipeline/siamese/artifacts"
)

// ValidationMetrics reads a training history, an Arrow table of one row
// per epoch with a val_loss column (and perhaps other val_* columns), and
// returns the best epoch's validation metrics: every float64 val_* column
// at the epoch of the lowest val_loss. A table without val_loss gives
// none.
func ValidationMetrics(path string) (map[string]float64, error) {
	t, err := artifacts.ReadArrow(path)
	if err != nil {
		return nil, fmt.Errorf("validation metrics: %w", err)
	}
	loss, err := t.Float64("val_loss")
	if err != nil {
		return nil, nil
	}
	best := -1
	for i, v := range loss {
		if !math.IsNaN(v) && (best < 0 || v < loss[best]) {
			best = i
		}
	}
	if best < 0 {
		return nil, nil
	}
	out := map[string]float64{}
	for _, name := range t.Names() {
		if !strings.HasPrefix(name, "val_") {
			continue
		}
		if col, err := t.Float64(name); err == nil {
			out[name] = col[best]
		}
	}
	return out, nil
}

// IsValidation says whether a metric is measured on a validation set
// (val_*), which a sweep may choose by, rather than on the test set.
func IsValidation(metric string) bool { return strings.HasPrefix(metric, "val_") }
