package train

import (
	"github.com/siamese-pipeline/siamese/model"
	"github.com/siamese-pipeline/siamese/pipeline"
)

// minedParams are the params of the training modes and the learning-rate
// schedule. Their defaults keep the notebook's training.
func minedParams() []pipeline.Param {
	return []pipeline.Param{
		{Name: "mining", Default: Fixed, Choices: Minings(),
			Doc: "fixed: the split's triplets, as the notebook; batch-all, batch-hard, semi-hard: batches of labelled images, the loss over the triplets mined in each"},
		{Name: "classes_per_batch", Default: 10, Range: "[2, 65536]", Doc: "mined modes: classes in a batch (P)"},
		{Name: "images_per_class", Default: 16, Range: "[2, 65536]", Doc: "mined modes: images of each class in a batch (K)"},
		{Name: "train_images", Default: 60000, Range: "[1, )",
			Doc: "mined modes: train on the first train_images rows of images.npy (the dataset's training part), less the test triplets' images"},
		{Name: "mirror", Default: false, Doc: "mined modes: mirror each drawn image left to right with probability 1/2"},
		{Name: "schedule", Default: model.Constant, Choices: model.Schedules,
			Doc: "learning rate by step: constant, cosine (warm-up, then cosine decay to 0) or one-cycle (from lr/25 up to lr, then down to lr/25e4)"},
		{Name: "restore", Default: "best", Choices: []string{"best", "last"},
			Doc: "the weights kept: the best epoch's by validation loss (Keras's restore_best_weights), or the last epoch's"},
		{Name: "warmup", Default: 0.3, Range: "[0, 1)", Doc: "cosine, one-cycle: the fraction of the steps that warms up"},
		{Name: "val_images", Default: 0, Range: "[0, )",
			Doc: "mined modes: hold val_images training images (evenly spread) out as validation images, never trained on; the validation loss (early stopping, restore best) and evaluate's validation metrics read them instead of the test triplets"},
		{Name: "arch", Default: model.MLP, Choices: model.Archs,
			Doc: "mlp: the notebook's dense layers on the raw pixels; cnn: conv blocks (3×3 convolution, ReLU, 2×2 max-pooling) of train.conv channels on the image, then the dense layers of train.hidden"},
		{Name: "conv", Default: []int{32, 64}, Range: "[1, 65536]", Doc: "arch cnn: the channels of each conv block"},
	}
}
