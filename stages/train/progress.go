package train

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/siamese-pipeline/siamese/model"
)

// progress shows a bar per epoch on a terminal, and logs one line per
// epoch otherwise.
type progress struct {
	log    *slog.Logger
	epochs int
	epochN int
	tty    bool
	bar    *progressbar.ProgressBar
}

func newProgress(log *slog.Logger, epochs int) *progress {
	return &progress{log: log, epochs: epochs, epochN: 1, tty: term.IsTerminal(int(os.Stderr.Fd()))}
}

func (p *progress) batch(batch, batches int, running float64) {
	if !p.tty {
		return
	}
	if p.bar == nil {
		p.bar = progressbar.NewOptions(batches,
			progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", p.epochN, p.epochs)),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(100_000_000))
	}
	p.bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f", p.epochN, p.epochs, running))
	_ = p.bar.Set(batch)
}

func (p *progress) epoch(e model.EpochStats) {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
	p.epochN = e.Epoch + 1
	p.log.Info("epoch", "epoch", e.Epoch, "loss", e.Loss, "val_loss", e.ValLoss, "seconds", e.Seconds)
}
