package model

import "fmt"

// A Mode is a way of training the network: what one epoch's batches are and
// which loss scores each. Train's loop (Adam, validation, early stopping,
// checkpoints) is the same for every mode.
//
//   - Fixed: the notebook's fixed triplets, shuffled each epoch, in batches
//     of Config.Batch triplets, scored by the triplet loss;
//   - Mined (mined.go): batches of P classes × K labelled images, scored by
//     the loss over the triplets mined inside each batch.
//
// A mode's epoch depends on nothing but the seed and the epoch number, so a
// run resumed from a checkpoint repeats an uninterrupted one.
type Mode interface {
	// Dim is the size of one input row: Config.Input.
	Dim() int
	// check reports data that cannot be trained with cfg.
	check(cfg Config) error
	// key identifies the training data and the mode's settings in checkpoints.
	key() dataKey
	// net builds the training graph for the mode's batches.
	net(w *Weights, cfg Config) (*net, error)
	// epoch prepares epoch e (0-based) and returns its number of batches.
	epoch(cfg Config, e int) int
	// load puts batch b of the prepared epoch into n and returns its size,
	// the batch's weight in the epoch's mean loss.
	load(n *net, b int) int
}

// Fixed trains on fixed triplets, as the notebook does: Triplets, or
// ImageTriplets gathered from the images batch by batch.
func Fixed(train TripletSource) Mode { return &fixed{train: train} }

type fixed struct {
	train TripletSource
	perm  []int
	batch int
}

func (f *fixed) Dim() int { _, d := f.train.Shape(); return d }

func (f *fixed) check(Config) error {
	if err := f.train.Check(); err != nil {
		return fmt.Errorf("train set: %w", err)
	}
	if n, _ := f.train.Shape(); n == 0 {
		return fmt.Errorf("model: empty training set")
	}
	return nil
}

func (f *fixed) key() dataKey {
	n, d := f.train.Shape()
	return dataKey{TrainN: n, Dim: d, TrainHash: f.train.Hash()}
}

func (f *fixed) net(w *Weights, cfg Config) (*net, error) {
	return newTripletNet(w, cfg.Batch, cfg.Margin, cfg.products())
}

func (f *fixed) epoch(cfg Config, e int) int {
	n, _ := f.train.Shape()
	f.perm, f.batch = permutation(cfg.Seed, e, n), cfg.Batch
	return (n + cfg.Batch - 1) / cfg.Batch
}

func (f *fixed) load(n *net, b int) int {
	idx := f.perm[b*f.batch : min(len(f.perm), (b+1)*f.batch)]
	n.load(f.train, idx)
	return len(idx)
}
