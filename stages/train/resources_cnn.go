package train

import (
	"github.com/siamese-pipeline/siamese/model"
	"github.com/siamese-pipeline/siamese/pipeline"
)

// convScratch is a CNN's working memory for one batch of side×side images
// (0 for an MLP): per conv block, the im2col matrix and its gradient (9·in
// floats a pixel each), the pre-activation and its gradient (out floats a
// pixel each) and the pooled output.
func convScratch(p pipeline.Params, side int) int64 {
	if p.String("arch") != model.CNN {
		return 0
	}
	rows := int64(max(3*p.Int("batch"), p.Int("classes_per_batch")*p.Int("images_per_class")))
	var total int64
	h, w, in := int64(side), int64(side), int64(1)
	for _, out := range p.Ints("conv") {
		perPixel := 2*9*in + 2*int64(out) + int64(out)/4
		total = pipeline.AddSize(total, pipeline.MulSize(rows, h, w, perPixel, 4))
		h, w, in = h/2, w/2, int64(out)
	}
	return total
}
