// Package evaluate is the pipeline stage that scores the trained network:
// the notebook's verification metrics on the test triplets, and retrieval
// and anomaly-detection metrics on images that no training triplet used.
package evaluate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"golang.org/x/sync/errgroup"

	"github.com/siamese-pipeline/siamese/model"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/scoring"
)

type stage struct{}

// New returns the evaluate stage.
func New() runner.Stage { return stage{} }

func (stage) Spec() pipeline.Spec {
	return pipeline.Spec{
		Version: "5",
		Params: []pipeline.Param{
			{Name: "queries", Default: 10000, Doc: "most unused images to score retrieval and anomaly metrics on", Range: "[1, )"},
			{Name: "pca_points", Default: 3000, Doc: "embeddings shown in embedding_pca.png", Range: "[2, )"},
			{Name: "fpr", Default: 0.05, Doc: "target false-positive rate of the per-class thresholds in thresholds.json", Range: "(0, 1)"},
		},
		Inputs: []string{"images.npy", "labels.npy", "classes.txt", "triplets.arrow", "train_rows.npy",
			"test_rows.npy", "model/"},
		Outputs: []string{"embeddings.arrow", "scores.arrow", "metrics.json", "roc.png", "similarity_hist.png",
			"embedding_pca.png", "anchors.npy", "thresholds.json"},
		Metrics: "metrics.json",

		Resources: resources, // resources.go
	}
}

// Metrics is metrics.json. Its numeric top-level fields are what the run
// history and the quality gate read.
type Metrics struct {
	TestTriplets   int     `json:"test_triplets"`
	BinaryAccuracy float64 `json:"binary_accuracy"` // similarity > 0.5, as Keras's binary accuracy
	ROCAUC         float64 `json:"roc_auc"`
	PRAUC          float64 `json:"pr_auc"` // average precision
	BestAccuracy   float64 `json:"best_accuracy"`
	BestThreshold  float64 `json:"best_threshold"`
	// Mining is how the model was trained (train.mining); HeldOut says
	// which images no training step used.
	Mining  string `json:"mining"`
	HeldOut string `json:"held_out"`
	// Retrieval is absent when no image is left that training did not
	// use.
	*Retrieval
	// Validation holds the same metrics with the model's validation
	// images (train.val_images) as the queries, which ValidationImages
	// describes; the test images above are then scored once, at the end,
	// and recipes are chosen on these. Both are absent without
	// validation images.
	ValidationImages string     `json:"validation_images,omitempty"`
	Validation       *Retrieval `json:"validation,omitempty"`
}

// Retrieval holds the metrics of the embedding on images that no training
// triplet used (the queries), against those they used (the reference).
type Retrieval struct {
	Reference   int     `json:"reference_images"`
	Queries     int     `json:"query_images"`
	KNN1        float64 `json:"knn_accuracy_k1"`
	KNN5        float64 `json:"knn_accuracy_k5"`
	PrecisionAt float64 `json:"precision_at_1"`
	MAPAtR      float64 `json:"map_at_r"`
	AnomalyMean float64 `json:"anomaly_auroc_mean_embedding"` // mean over classes
	AnomalyImg  float64 `json:"anomaly_auroc_mean_image"`     // mean over classes
	PerClass    []Class `json:"per_class"`
}

// Class holds one class's anomaly AUROC, class vs rest, scoring by cosine
// distance to the class's mean embedding or to the embedding of its mean image.
type Class struct {
	Class       int     `json:"class"`
	Name        string  `json:"name"`
	AnomalyMean float64 `json:"anomaly_auroc_mean_embedding"`
	AnomalyImg  float64 `json:"anomaly_auroc_mean_image"`
}

func run(ctx context.Context, env *runner.Env) error {
	w, err := loadWeights(env.In("model/"))
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	d, err := loadData(env)
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	test, err := embedTest(ctx, w, d)
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	if d.trained, err = readTrained(env.In("model/"), len(d.labels)); err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// The test triplets' metrics (serial, small) are computed while the
	// images are embedded and scored (parallel, large).
	var m *Metrics
	var tri errgroup.Group
	tri.Go(runner.Guarded(func() (err error) {
		m, err = scoreTriplets(env, test)
		return err
	}))
	q, err := embedQueries(ctx, env, w, d)
	if err != nil {
		_ = tri.Wait()
		return fmt.Errorf("evaluate: %w", err)
	}
	// Retrieval (parallel) runs beside the anomaly metrics, the anchors and
	// the PCA picture (mostly serial), which fill the cores it leaves idle.
	// The picture shows the queries when there are any, else the test anchors.
	shown, shownLabels := test.anchors(), test.classes
	var ret, anom, vret, vanom Retrieval
	var skipped []string
	validate := q != nil && len(q.valLabels) > 0
	g, gctx := errgroup.WithContext(ctx)
	if q != nil {
		shown, shownLabels = q.emb, q.labels
		g.Go(runner.Guarded(func() (err error) {
			ret, err = retrieval(gctx, q, w.OutputDim())
			return err
		}))
		g.Go(runner.Guarded(func() (err error) {
			anom, skipped, err = anomaly(gctx, w, d, q)
			return err
		}))
	}
	if validate {
		g.Go(runner.Guarded(func() (err error) {
			if vret, err = retrieval(gctx, q.validation(), w.OutputDim()); err != nil {
				return err
			}
			vanom, _, err = anomaly(gctx, w, d, q.validation())
			return err
		}))
	}
	g.Go(runner.Guarded(func() error { return writeAnchors(gctx, env, w, d, q) }))
	g.Go(runner.Guarded(func() error { return pca(env, shown, shownLabels, w.OutputDim(), d.classes) }))
	err = g.Wait()
	if terr := tri.Wait(); err == nil {
		err = terr
	}
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	var r *Retrieval
	if q != nil {
		if len(skipped) > 0 {
			env.Log.Warn("classes left out of the anomaly metrics: the queries hold none of them, or nothing else", "classes", skipped)
		}
		r = &ret
		r.Reference, r.Queries = len(q.refLabels), len(q.labels)
		r.AnomalyMean, r.AnomalyImg, r.PerClass = anom.AnomalyMean, anom.AnomalyImg, anom.PerClass
		env.Log.Info("retrieval", "knn_k1", r.KNN1, "map_at_r", r.MAPAtR, "anomaly_auroc", r.AnomalyMean)
	}
	m.Mining, m.HeldOut, m.Retrieval = d.trained.Mining, d.trained.HeldOut, r
	if validate {
		m.ValidationImages, m.Validation = d.trained.Validation, &vret
		vret.Reference, vret.Queries = len(q.refLabels), len(q.valLabels)
		vret.AnomalyMean, vret.AnomalyImg, vret.PerClass = vanom.AnomalyMean, vanom.AnomalyImg, vanom.PerClass
		env.Log.Info("validation", "knn_k5", vret.KNN5, "anomaly_auroc", vret.AnomalyMean, "images", vret.Queries)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	env.Log.Info("metrics", "mining", m.Mining, "binary_accuracy", m.BinaryAccuracy, "roc_auc", m.ROCAUC)
	return os.WriteFile(env.Out("metrics.json"), append(data, '\n'), 0o644)
}

func loadWeights(dir string) (*model.Weights, error) { return scoring.LoadWeights(dir) }
