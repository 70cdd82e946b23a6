// Command minetune is the tuning harness of the mined training modes
// (docs/design.md: "Training modes: online triplet mining"): it trains on the
// first -ntrain images of an ingest stage's images.npy with model.Fit,
// validates on 1,500 triplets of the next 5,000, and prints the kNN-5 and
// kNN-1 accuracy and the mean anomaly AUROC (mean-embedding anchor) of the
// dataset's 10,000 test images against the training images, with the last
// epoch's weights.
//
//	go run -tags openblas ./bench/minetune -d out/ingest -epochs 20 -lr 1e-3
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/metrics"
	"github.com/siamese-pipeline/siamese/model"
)

func main() {
	dir := flag.String("d", "out/ingest", "directory of images.npy and labels.npy (train 60k then test 10k)")
	mining := flag.String("mining", "batch-all", "")
	p := flag.Int("p", 10, "")
	k := flag.Int("k", 16, "")
	lr := flag.Float64("lr", 1e-3, "")
	margin := flag.Float64("margin", 0.2, "")
	epochs := flag.Int("epochs", 15, "")
	sched := flag.String("sched", "one-cycle", "")
	warm := flag.Float64("warm", 0.3, "")
	ntrain := flag.Int("ntrain", 55000, "")
	nq := flag.Int("nq", 10000, "")
	mirror := flag.Int("mirror", 0, "")
	flag.Parse()
	img, _, err := artifacts.ReadNPY[uint8](*dir + "/images.npy")
	if err != nil {
		panic(err)
	}
	lab, _, _ := artifacts.ReadNPY[uint8](*dir + "/labels.npy")
	const D = 784
	conv := func(lo, hi int) model.Images {
		im := model.Images{N: hi - lo, Dim: D, Data: make([]float32, (hi-lo)*D), Labels: make([]int32, hi-lo)}
		for i := lo; i < hi; i++ {
			for j := 0; j < D; j++ {
				im.Data[(i-lo)*D+j] = float32(float64(img[i*D+j]) / 255)
			}
			im.Labels[i-lo] = int32(lab[i])
		}
		return im
	}
	tr := conv(0, *ntrain)
	te := conv(60000, 60000+*nq)
	// validation: 1500 triplets from the last 5000 training images (not trained on)
	pool := conv(*ntrain, *ntrain+5000)
	val := model.Triplets{N: 1500, Dim: D, Data: make([]float32, 0, 1500*3*D)}
	r := rand.New(rand.NewPCG(1, 2))
	for len(val.Data) < 1500*3*D {
		a, p, q := r.IntN(pool.N), r.IntN(pool.N), r.IntN(pool.N)
		if a == p || pool.Labels[a] != pool.Labels[p] || pool.Labels[q] == pool.Labels[a] {
			continue
		}
		for _, i := range []int{a, p, q} {
			val.Data = append(val.Data, pool.Data[i*D:(i+1)*D]...)
		}
	}
	cfg := model.DefaultConfig()
	cfg.LR, cfg.Margin, cfg.Epochs, cfg.Patience, cfg.Seed = *lr, float32(*margin), *epochs, 1000, 42
	cfg.Schedule, cfg.Warmup = *sched, *warm
	cfg.KeepLast = true
	start := time.Now()
	eval := func(w *model.Weights) (float64, float64) {
		re := model.Embed(w, tr.Data, tr.N)
		qe := model.Embed(w, te.Data, te.N)
		rl, ql := make([]int, tr.N), make([]int, te.N)
		for i := range rl {
			rl[i] = int(tr.Labels[i])
		}
		for i := range ql {
			ql[i] = int(te.Labels[i])
		}
		var an float64
		for c := range 10 {
			a, _ := metrics.ClassAUROC(qe, ql, 128, metrics.MeanEmbedding(re, rl, 128, c), c)
			an += a / 10
		}
		fmt.Printf("anomaly_auroc_mean_embedding=%.4f ", an)
		return metrics.KNNAccuracy(re, rl, qe, ql, 128, 5), metrics.KNNAccuracy(re, rl, qe, ql, 128, 1)
	}
	res, err := model.Fit(context.Background(), cfg, model.Mined(tr, model.Batches{Mining: model.Mining(*mining), Classes: *p, PerClass: *k, Mirror: *mirror}),
		val, model.TrainOptions{OnEpoch: func(s model.EpochStats) {
			fmt.Fprintf(os.Stderr, "epoch %d loss %.4f val %.4f %.1fs total %.0fs\n", s.Epoch, s.Loss, s.ValLoss, s.Seconds, time.Since(start).Seconds())
		}})
	if err != nil {
		panic(err)
	}
	// the last epoch's weights: Best monitors train loss here; report both
	k5, k1 := eval(res.Best)
	fmt.Printf("%v mining=%s P=%d K=%d lr=%g margin=%g epochs=%d sched=%s warm=%g mirror=%d: knn5=%.4f knn1=%.4f best_epoch=%d train %.0fs\n",
		time.Now().Format("15:04"), *mining, *p, *k, *lr, *margin, *epochs, *sched, *warm, *mirror, k5, k1, res.BestEpoch, time.Since(start).Seconds())
}
