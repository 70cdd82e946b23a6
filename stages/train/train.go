// Package train is the pipeline stage that trains the embedding network
// on the split's triplets and saves its weights as plain .npy files.
package train

import (
	"context"
	"fmt"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/blas"
	"github.com/siamese-pipeline/siamese/model"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/plots"
	"github.com/siamese-pipeline/siamese/runner"
)

type stage struct{}

// New returns the train stage.
func New() runner.Stage { return stage{} }

func (stage) Spec() pipeline.Spec {
	def := model.DefaultConfig()
	return pipeline.Spec{
		Version: "1",
		Params: append([]pipeline.Param{
			{Name: "hidden", Default: def.Hidden, Doc: "layer sizes; the last is the embedding size", Range: "[1, 65536]"},
			{Name: "margin", Default: float64(def.Margin), Doc: "triplet loss margin (cosine distances lie in [0, 2])", Range: "[0, 2]"},
			{Name: "lr", Default: def.LR, Doc: "Adam learning rate", Range: "(0, 1]"},
			{Name: "batch", Default: def.Batch, Doc: "batch size", Range: "[1, 65536]"},
			{Name: "epochs", Default: def.Epochs, Doc: "most epochs to train", Range: "[1, 100000]"},
			{Name: "patience", Default: def.Patience, Doc: "epochs without a better validation loss before stopping", Range: "[0, )"},
			{Name: "seed", Default: 42, Doc: "seed of the initial weights and the shuffles", Range: "[0, )"},
			{Name: "precision", Default: def.Precision, Choices: model.Precisions,
				Doc: "training's matrix products: float32 (the notebook's) or bf16 (operands rounded to bfloat16, float32 sums; AMX tiles where the CPU has them); weights, Adam and evaluation stay float32"},
		}, minedParams()...),
		// Every mode gathers its batches from the images; the fixed
		// triplets and the validation triplets are rows of the index;
		// the mined modes hold the test triplets' images out (mined.go).
		Inputs:  []string{"images.npy", "labels.npy", "triplets.arrow", "train_rows.npy", "test_rows.npy"},
		Outputs: []string{"model/", "history.arrow", "loss.png"},

		Resources: resources, // resources.go
	}
}

func (stage) Run(ctx context.Context, env *runner.Env) error {
	p := env.Params
	cfg := model.DefaultConfig()
	cfg.Hidden, cfg.Margin, cfg.LR = p.Ints("hidden"), float32(p.Float("margin")), p.Float("lr")
	cfg.Batch, cfg.Epochs, cfg.Patience, cfg.Seed = p.Int("batch"), p.Int("epochs"), p.Int("patience"), uint64(p.Int("seed"))
	cfg.Schedule, cfg.Warmup, cfg.KeepLast = p.String("schedule"), p.Float("warmup"), p.String("restore") == "last"
	cfg.Precision = p.String("precision")

	how, err := modeFor(p.String("mining"))
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	in, err := readInputs(env)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	mode, trained, err := how.open(env, in)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	var val model.TripletSource = in.test
	if trained != nil && trained.val != nil {
		val = *trained.val
	} else if p.Int("val_images") > 0 {
		return fmt.Errorf("train: val_images needs a mined mode (train.mining), not %q", p.String("mining"))
	}
	cfg.Input = mode.Dim()
	if p.String("arch") == model.CNN {
		if cfg.Width, err = imageWidth(in.images.Shape, cfg.Input); err != nil {
			return fmt.Errorf("train: %w", err)
		}
		cfg.Arch, cfg.Conv = model.CNN, p.Ints("conv")
	}
	checkpoints, err := env.StateDir()
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	precision := cfg.Precision
	if precision == model.BF16 {
		precision += " (" + blas.BF16Name() + ")"
	}
	arch := []any{"hidden", cfg.Hidden}
	if cfg.Arch == model.CNN {
		arch = []any{"arch", cfg.Arch, "conv", cfg.Conv, "hidden", cfg.Hidden}
	}
	valN, _ := val.Shape()
	env.Log.Info("training", append([]any{"mining", p.String("mining"), "val", valN, "blas", blas.Name(), "precision", precision},
		append(arch, "epochs", cfg.Epochs)...)...)
	bar := newProgress(env.Log, cfg.Epochs)
	res, err := model.Fit(ctx, cfg, mode, val, model.TrainOptions{
		CheckpointDir: checkpoints,
		OnCheckpointError: func(err error) {
			env.Log.Warn("starting afresh: the checkpoint could not be read", "err", err)
		},
		OnBatch: bar.batch,
		OnEpoch: bar.epoch,
	})
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if res.Resumed {
		env.Log.Info("resumed from a checkpoint")
	}
	env.Log.Info("trained", "epochs", len(res.History), "best_epoch", res.BestEpoch, "early_stop", res.Stopped)
	extra := map[string]any{
		"loss": "cosine_triplet", "margin": cfg.Margin, "best_epoch": res.BestEpoch, "epochs_run": len(res.History),
		"precision": cfg.Precision,
	}
	if err := trained.record(env.Out("model/"), p.String("mining"), extra); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if cfg.Arch == model.CNN {
		extra["arch"] = model.CNN
	}
	conv, layers := layersOf(res.Best)
	if err := artifacts.WriteNet(env.Out("model/"), conv, layers, extra); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return writeHistory(env.Out("history.arrow"), env.Out("loss.png"), res.History, res.BestEpoch)
}

func writeHistory(arrowPath, pngPath string, h []model.EpochStats, best int) error {
	epochs := make([]int, len(h))
	epoch64 := make([]int64, len(h))
	loss, val, secs := make([]float64, len(h)), make([]float64, len(h)), make([]float64, len(h))
	for i, e := range h {
		epochs[i], epoch64[i], loss[i], val[i], secs[i] = e.Epoch, int64(e.Epoch), e.Loss, e.ValLoss, e.Seconds
	}
	cols := artifacts.NewColumns().Int64("epoch", epoch64).Float64("loss", loss).
		Float64("val_loss", val).Float64("seconds", secs)
	if err := artifacts.WriteArrow(arrowPath, cols); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if err := plots.LossCurves(pngPath, epochs, loss, val, best); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

// layersOf lists the network's conv blocks and dense layers for
// artifacts.WriteNet: relu after every dense layer but the last.
func layersOf(w *model.Weights) ([]artifacts.Conv, []artifacts.Dense) {
	var conv []artifacts.Conv
	for _, c := range w.Conv {
		conv = append(conv, artifacts.Conv{Height: c.Height, Width: c.Width, In: c.In, Out: c.Out, W: c.W, B: c.B})
	}
	var out []artifacts.Dense
	for i, l := range w.Layers {
		act := "relu"
		if i == len(w.Layers)-1 {
			act = "linear"
		}
		out = append(out, artifacts.Dense{In: l.In, Out: l.Out, W: l.W, B: l.B, Activation: act})
	}
	return conv, out
}

// imageWidth is the width of images.npy's (n, height, width) images, of
// shape shape, which must hold pixels values each.
func imageWidth(shape []int, pixels int) (int, error) {
	if len(shape) != 3 || shape[1]*shape[2] != pixels {
		return 0, fmt.Errorf("arch cnn: images.npy has shape %v, not images of %d pixels", shape, pixels)
	}
	return shape[2], nil
}
