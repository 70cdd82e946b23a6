package evaluate

import (
	"context"
	"fmt"
	"slices"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/model"
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/scoring"
)

// writeAnchors writes anchors.npy, one mean embedding per class of
// classes.txt (float32, classes × embedding), and thresholds.json, each
// class's distance threshold at params.fpr, chosen on held-out images.
// q holds the reference and held-out embeddings scoreImages made; when
// it is nil (no image is left that training did not use) up to params.queries images of
// images.npy, spread evenly over each class, serve as both, and thresholds.json says so.
func writeAnchors(ctx context.Context, env *runner.Env, w *model.Weights, d *data, q *queries) error {
	dim, classes := w.OutputDim(), len(d.classes)
	ref, held := scoring.Set{}, scoring.Set{}
	if q != nil {
		ref, held = scoring.Set{Emb: q.refEmb, Labels: q.refLabels}, scoring.Set{Emb: q.emb, Labels: q.labels}
	} else {
		byClass := make([][]int, classes)
		for i, l := range d.labels {
			if int(l) < classes {
				byClass[l] = append(byClass[l], i)
			}
		}
		var rows []int
		for _, r := range byClass {
			rows = append(rows, spread(r, max(1, env.Params.Int("queries")/classes))...)
		}
		x, labels := make([]float32, len(rows)*d.pixels), make([]int, len(rows))
		for i, r := range rows {
			d.image(int64(r), x[i*d.pixels:(i+1)*d.pixels])
			labels[i] = int(d.labels[r])
		}
		ref = scoring.Set{Emb: model.Embed(w, x, len(rows)), Labels: labels}
	}
	// A class neither set holds (no training triplet used its images and
	// the queries drew none) takes its anchor from its images in images.npy.
	present := make([]bool, classes)
	for _, l := range append(slices.Clone(ref.Labels), held.Labels...) {
		if l >= 0 && l < classes {
			present[l] = true
		}
	}
	var extra []int
	for c, ok := range present {
		if ok {
			continue
		}
		var rows []int
		for i, l := range d.labels {
			if int(l) == c {
				rows = append(rows, i)
			}
		}
		extra = append(extra, spread(rows, max(1, env.Params.Int("queries")/classes))...)
	}
	if len(extra) > 0 {
		x, labels := make([]float32, len(extra)*d.pixels), make([]int, len(extra))
		for i, r := range extra {
			d.image(int64(r), x[i*d.pixels:(i+1)*d.pixels])
			labels[i] = int(d.labels[r])
		}
		ref = scoring.Set{Emb: append(slices.Clone(ref.Emb), model.Embed(w, x, len(extra))...), Labels: append(slices.Clone(ref.Labels), labels...)}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	anchors, err := scoring.Anchors(ref, held, dim, classes)
	if err != nil {
		return err
	}
	names := make([]string, classes)
	for c := range names {
		names[c] = d.className(c)
	}
	t, err := scoring.Choose(anchors, dim, names, held, ref, env.Params.Float("fpr"))
	if err != nil {
		return err
	}
	if q == nil {
		t.Method = fmt.Sprintf("per class, the smallest distance that at most %g of %d images of images.npy (spread evenly over each class) exceed "+
			"(no held-out images were known: the thresholds are optimistic)", t.TargetFPR, len(ref.Labels))
	}
	if err := artifacts.WriteNPY(env.Out("anchors.npy"), anchors, classes, dim); err != nil {
		return err
	}
	env.Log.Info("anchors and thresholds", "classes", classes, "fpr", t.TargetFPR)
	return t.Write(env.Out("thresholds.json"))
}
