// Package scoring is anomaly scoring with a trained network: an image is
// embedded, assigned to the class whose anchor (the mean embedding of the
// class's training images) is nearest in cosine distance, and passes when
// that distance is within the class's threshold. The evaluate stage makes
// the anchors and thresholds with this package; `siamese score` uses them.
package scoring

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"

	"github.com/siamese-pipeline/siamese/internal/atomicfile"
	"github.com/siamese-pipeline/siamese/metrics"
)

// Set is a set of embeddings (n×dim, row-major) and their class labels.
type Set struct {
	Emb    []float32
	Labels []int
}

// Distance is the cosine distance 1 − cos(e, anchor), computed as the
// evaluation metrics compute it (in float64; 1 for a zero vector).
func Distance(e, anchor []float32) float64 { return 1 - metrics.Cosine(e, anchor) }

// Anchors returns one anchor per class, classes×dim: the mean embedding
// of the class's images in ref, or in other when ref has none. A class
// found in neither is an error.
func Anchors(ref, other Set, dim, classes int) ([]float32, error) {
	if err := checkSet(ref, dim, classes); err != nil {
		return nil, fmt.Errorf("anchors: %w", err)
	}
	if err := checkSet(other, dim, classes); err != nil {
		return nil, fmt.Errorf("anchors: %w", err)
	}
	out := make([]float32, 0, classes*dim)
	for c := range classes {
		a := metrics.MeanEmbedding(ref.Emb, ref.Labels, dim, c)
		if a == nil {
			a = metrics.MeanEmbedding(other.Emb, other.Labels, dim, c)
		}
		if a == nil {
			return nil, fmt.Errorf("anchors: class %d has no image to take its mean embedding from", c)
		}
		out = append(out, a...)
	}
	return out, nil
}

func checkSet(s Set, dim, classes int) error {
	if dim <= 0 || len(s.Emb) != len(s.Labels)*dim {
		return fmt.Errorf("%d embedding values for %d labels of dimension %d", len(s.Emb), len(s.Labels), dim)
	}
	for _, l := range s.Labels {
		if l < 0 || l >= classes {
			return fmt.Errorf("label %d out of range for %d classes", l, classes)
		}
	}
	return nil
}

// Thresholds is thresholds.json: a distance threshold per class, chosen
// so that about TargetFPR of a class's held-out images lie beyond it.
type Thresholds struct {
	// Distance names the distance the thresholds apply to.
	Distance string `json:"distance"`
	// TargetFPR is the false-positive rate asked for: the fraction of a
	// class's normal images that its threshold may flag as anomalies.
	TargetFPR float64 `json:"target_fpr"`
	// Method says how the thresholds were chosen, in words.
	Method string `json:"method"`
	// Classes and Thresholds are parallel: Thresholds[c] is class c's.
	Classes    []string  `json:"classes"`
	Thresholds []float64 `json:"thresholds"`
	// Flagged is the fraction of all held-out images that scoring would
	// flag: beyond the threshold of the class whose anchor is nearest.
	// Nearly all are normal images, so it is the false-positive rate of
	// scoring as a whole.
	Flagged  float64          `json:"held_out_flagged"`
	PerClass []ClassThreshold `json:"per_class"`
}

// ClassThreshold is how one class's threshold was chosen, and how it does
// on the images it was chosen on.
type ClassThreshold struct {
	Class     int     `json:"class"`
	Name      string  `json:"name"`
	Threshold float64 `json:"threshold"`
	// Source says which images the threshold was chosen on: "held-out"
	// (images no training triplet used) or, when the class has none,
	// "reference" (the training images).
	Source string `json:"source"`
	// Images is the number of the class's images it was chosen on; FPR
	// the fraction of them beyond it.
	Images int     `json:"images"`
	FPR    float64 `json:"fpr"`
	// TPR is the fraction of the other classes' images (of the same
	// source) beyond it: the anomalies it catches.
	TPR float64 `json:"tpr"`
}

// DistanceName is the Distance of thresholds.json.
const DistanceName = "cosine: 1 - cos(embedding, anchor)"

// Choose picks each class's threshold on the held-out images: the
// smallest distance t such that at most a fraction fpr of the class's
// held-out images lie beyond t (the order statistic n − ⌊fpr·n⌋ of their
// distances to the class's anchor). A class without held-out images gets
// its threshold from the reference images instead.
func Choose(anchors []float32, dim int, names []string, heldOut, reference Set, fpr float64) (*Thresholds, error) {
	classes := len(names)
	if !(fpr >= 0 && fpr < 1) {
		return nil, fmt.Errorf("thresholds: false-positive rate %g: want [0, 1)", fpr)
	}
	if classes == 0 || len(anchors) != classes*dim {
		return nil, fmt.Errorf("thresholds: %d anchor values for %d classes of dimension %d", len(anchors), classes, dim)
	}
	for _, s := range []Set{heldOut, reference} {
		if err := checkSet(s, dim, classes); err != nil {
			return nil, fmt.Errorf("thresholds: %w", err)
		}
	}
	t := &Thresholds{Distance: DistanceName, TargetFPR: fpr, Classes: slices.Clone(names),
		Method: fmt.Sprintf("per class, the smallest distance that at most %g of the class's held-out images "+
			"(images no training triplet used) exceed; tpr is the fraction of the other classes' held-out images "+
			"beyond it", fpr)}
	for c := range classes {
		src, set := "held-out", heldOut
		if !slices.Contains(heldOut.Labels, c) {
			src, set = "reference", reference
		}
		anchor := anchors[c*dim : (c+1)*dim]
		var own, rest []float64
		for i, l := range set.Labels {
			d := Distance(set.Emb[i*dim:(i+1)*dim], anchor)
			if l == c {
				own = append(own, d)
			} else {
				rest = append(rest, d)
			}
		}
		if len(own) == 0 {
			return nil, fmt.Errorf("thresholds: class %d (%s) has no image to choose its threshold on", c, names[c])
		}
		th := Quantile(own, fpr)
		t.Thresholds = append(t.Thresholds, th)
		t.PerClass = append(t.PerClass, ClassThreshold{Class: c, Name: names[c], Threshold: th, Source: src,
			Images: len(own), FPR: beyond(own, th), TPR: beyond(rest, th)})
	}
	if n := len(heldOut.Labels); n > 0 {
		m := &Model{Anchors: anchors, Dim: dim, Classes: names, Thresholds: t.Thresholds}
		flagged := 0
		for i := range n {
			if !m.Nearest(heldOut.Emb[i*dim : (i+1)*dim]).Pass {
				flagged++
			}
		}
		t.Flagged = float64(flagged) / float64(n)
	}
	return t, nil
}

// Quantile returns the smallest value t of d such that at most a fraction
// fpr of d is greater than t. d must not be empty; it is sorted in place.
func Quantile(d []float64, fpr float64) float64 {
	slices.Sort(d)
	allowed := int(math.Floor(fpr*float64(len(d)) + 1e-9))
	return d[len(d)-1-min(allowed, len(d)-1)]
}

// beyond is the fraction of d greater than t (0 for none).
func beyond(d []float64, t float64) float64 {
	if len(d) == 0 {
		return 0
	}
	n := 0
	for _, v := range d {
		if v > t {
			n++
		}
	}
	return float64(n) / float64(len(d))
}

// Write writes t as indented JSON to path, atomically.
func (t *Thresholds) Write(path string) error {
	data, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(data, '\n'))
}

// ReadThresholds reads and checks a thresholds.json.
func ReadThresholds(path string) (*Thresholds, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t Thresholds
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(t.Classes) == 0 || len(t.Classes) != len(t.Thresholds) {
		return nil, fmt.Errorf("%s: %d classes and %d thresholds", path, len(t.Classes), len(t.Thresholds))
	}
	for c, th := range t.Thresholds {
		if math.IsNaN(th) || th < 0 {
			return nil, fmt.Errorf("%s: class %d: threshold %g", path, c, th)
		}
	}
	return &t, nil
}
