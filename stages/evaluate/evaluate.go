// Package evaluate is the pipeline stage that scores the trained network:
// the notebook's verification metrics on the test triplets, and retrieval
// and anomaly-detection metrics on images that no training triplet used.
package evaluate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/metrics"
	"github.com/siamese-pipeline/siamese/model"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/plots"
	"github.com/siamese-pipeline/siamese/runner"
)

type stage struct{}

// New returns the evaluate stage.
func New() runner.Stage { return stage{} }

func (stage) Spec() pipeline.Spec {
	return pipeline.Spec{
		Version: "1",
		Params: []pipeline.Param{
			{Name: "queries", Default: 10000, Doc: "most unused images to score retrieval and anomaly metrics on"},
			{Name: "pca_points", Default: 3000, Doc: "embeddings shown in embedding_pca.png"},
		},
		Inputs: []string{"images.npy", "labels.npy", "triplets.arrow", "X_test.npy", "train_rows.npy", "test_rows.npy", "model/"},
		Outputs: []string{"embeddings.arrow", "scores.arrow", "metrics.json", "roc.png", "similarity_hist.png",
			"embedding_pca.png"},
		Metrics: "metrics.json",
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

	Reference   int     `json:"reference_images"` // images the training triplets used
	Queries     int     `json:"query_images"`     // images no training triplet used, scored here
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

func (stage) Run(ctx context.Context, env *runner.Env) error {
	w, err := loadWeights(env.In("model/"))
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	var m Metrics
	if err := scoreTriplets(env, w, &m); err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := scoreImages(ctx, env, w, &m); err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	env.Log.Info("metrics", "binary_accuracy", m.BinaryAccuracy, "roc_auc", m.ROCAUC, "knn_k1", m.KNN1,
		"map_at_r", m.MAPAtR, "anomaly_auroc", m.AnomalyMean)
	return os.WriteFile(env.Out("metrics.json"), append(data, '\n'), 0o644)
}

func loadWeights(dir string) (*model.Weights, error) {
	layers, _, err := artifacts.ReadMLP(dir)
	if err != nil {
		return nil, err
	}
	w := &model.Weights{}
	for i, l := range layers {
		// model's networks put relu after every layer but the last.
		if want := map[bool]string{true: "linear", false: "relu"}[i == len(layers)-1]; l.Activation != want {
			return nil, fmt.Errorf("%s: layer %d has activation %q, want %q", dir, i, l.Activation, want)
		}
		w.Layers = append(w.Layers, model.Layer{In: l.In, Out: l.Out, W: l.W, B: l.B})
	}
	return w, w.Check()
}

// scoreTriplets embeds the test triplets and scores (anchor, positive)
// pairs against (anchor, negative) pairs by angular similarity.
func scoreTriplets(env *runner.Env, w *model.Weights, m *Metrics) error {
	x, shape, err := artifacts.ReadNPYFloat32(env.In("X_test.npy"))
	if err != nil {
		return err
	}
	if len(shape) != 3 || shape[1] != 3 || shape[2] != w.InputDim() {
		return fmt.Errorf("X_test shape %v, want (n, 3, %d)", shape, w.InputDim())
	}
	n, dim := shape[0], w.OutputDim()
	rows, _, err := artifacts.ReadNPY[int64](env.In("test_rows.npy"))
	if err != nil {
		return err
	}
	table, err := artifacts.ReadArrow(env.In("triplets.arrow"))
	if err != nil {
		return err
	}
	classOf, err := table.Int64("class")
	if err != nil {
		return err
	}
	if len(rows) != n {
		return fmt.Errorf("test_rows has %d rows, X_test %d", len(rows), n)
	}
	emb := model.Embed(w, x, 3*n) // rows: anchor, positive, negative of each triplet
	anchor, pos, neg := make([]float32, 0, n*dim), make([]float32, 0, n*dim), make([]float32, 0, n*dim)
	classes := make([]int64, n)
	scores, labels := make([]float64, 2*n), make([]bool, 2*n)
	for i := range n {
		a, p, q := emb[(3*i)*dim:(3*i+1)*dim], emb[(3*i+1)*dim:(3*i+2)*dim], emb[(3*i+2)*dim:(3*i+3)*dim]
		anchor, pos, neg = append(anchor, a...), append(pos, p...), append(neg, q...)
		if rows[i] < 0 || rows[i] >= int64(len(classOf)) {
			return fmt.Errorf("test row %d is not a triplet of triplets.arrow", rows[i])
		}
		classes[i] = classOf[rows[i]]
		scores[i], labels[i] = metrics.AngularSimilarity(metrics.Cosine(a, p)), true
		scores[n+i] = metrics.AngularSimilarity(metrics.Cosine(a, q))
	}
	m.TestTriplets = n
	m.BinaryAccuracy = metrics.BinaryAccuracy(scores, labels, 0.5)
	if m.ROCAUC, err = metrics.ROCAUC(scores, labels); err != nil {
		return err
	}
	if m.PRAUC, err = metrics.AveragePrecision(scores, labels); err != nil {
		return err
	}
	m.BestAccuracy, m.BestThreshold = metrics.BestThresholdAccuracy(scores, labels)

	embCols := artifacts.NewColumns().Int64("id", rows).Int64("class", classes).
		FixedFloat32("anchor", anchor, dim).FixedFloat32("positive", pos, dim).FixedFloat32("negative", neg, dim)
	if err := artifacts.WriteArrow(env.Out("embeddings.arrow"), embCols); err != nil {
		return err
	}
	pair, triplet, kind, label, pairClass := make([]int64, 2*n), make([]int64, 2*n), make([]string, 2*n), make([]int64, 2*n), make([]int64, 2*n)
	for i := range 2 * n {
		pair[i], triplet[i], pairClass[i], kind[i] = int64(i), rows[i%n], classes[i%n], "negative"
		if labels[i] {
			kind[i], label[i] = "positive", 1
		}
	}
	scoreCols := artifacts.NewColumns().Int64("pair", pair).Int64("id", triplet).Int64("class", pairClass).
		String("kind", kind).Float64("similarity", scores).Int64("label", label)
	if err := artifacts.WriteArrow(env.Out("scores.arrow"), scoreCols); err != nil {
		return err
	}
	fpr, tpr, _, err := metrics.ROCCurve(scores, labels)
	if err != nil {
		return err
	}
	if err := plots.ROC(env.Out("roc.png"), fpr, tpr, m.ROCAUC); err != nil {
		return err
	}
	return plots.SimilarityHist(env.Out("similarity_hist.png"), scores[:n], scores[n:])
}
