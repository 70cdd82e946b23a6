package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A model with validation images: the report says what they are and their
// kNN-5 accuracy beside the test images' metrics; without them it says
// nothing of validation.
func TestReportValidationImages(t *testing.T) {
	for _, withVal := range []bool{false, true} {
		cur, prev, metrics := sample()
		if withVal {
			metrics["validation_images"] = "5000 of the training images, evenly spread"
			metrics["validation"] = map[string]any{"knn_accuracy_k5": 0.92512}
		}
		path := filepath.Join(t.TempDir(), "report.html")
		if err := Write(path, Input{Run: cur, Previous: prev, Metrics: metrics}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		doc := string(b)
		has := strings.Contains(doc, "Validation images, on which recipes are chosen")
		if has != withVal || (withVal && !strings.Contains(doc, "5000 of the training images, evenly spread; their kNN-5 accuracy 0.9251.")) {
			t.Errorf("with validation images %v: report says of them %v", withVal, has)
		}
	}
}
