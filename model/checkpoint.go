package model

import (
	"encoding/gob"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"unsafe"

	"github.com/zeebo/xxh3"

	"github.com/siamese-pipeline/siamese/internal/atomicfile"
)

// CheckpointFile is the file Train keeps in TrainOptions.CheckpointDir.
const CheckpointFile = "checkpoint.gob"

const checkpointVersion = 1

// dataKey identifies the data a checkpoint was made with.
type dataKey struct {
	TrainN, ValN, Dim int
	TrainHash         uint64
	ValHash           uint64
	Mode              string // the training mode's settings; "" for fixed triplets
}

// hashFloats is the xxh3 hash of x's bytes (in this machine's byte order),
// seeded with its length: tens of milliseconds for the 268 MB of the
// default training set, where a float-by-float FNV took a tenth of a second.
func hashFloats(x []float32) uint64 {
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), 4*len(x))
	return xxh3.HashSeed(b, uint64(len(x)))
}

// keyOf is the key of training on fixed triplets train, validating on val.
func keyOf(train, val Triplets) dataKey { return Fixed(train).key().withVal(val) }

// withVal adds the validation set to a mode's key.
func (k dataKey) withVal(val TripletSource) dataKey {
	k.ValN, _ = val.Shape()
	k.ValHash = val.Hash()
	return k
}

// checkpoint is everything needed to continue training after an epoch.
type checkpoint struct {
	Version   int
	Config    Config
	Data      dataKey
	Epoch     int // epochs completed
	Weights   *Weights
	Adam      AdamState
	Best      *Weights
	BestLoss  float64 // monitored loss of Best
	BestEpoch int
	Wait      int
	Stopped   bool
	History   []EpochStats
}

func (c *checkpoint) matches(cfg Config, key dataKey) bool {
	return c.Version == checkpointVersion && reflect.DeepEqual(c.Config.normal(), cfg.normal()) && c.Data == key &&
		c.Weights != nil && c.Best != nil && c.Weights.Check() == nil && c.Best.Check() == nil
}

// loadCheckpoint returns the checkpoint in dir, nil if there is none.
func loadCheckpoint(dir string) (*checkpoint, error) {
	f, err := os.Open(filepath.Join(dir, CheckpointFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var c checkpoint
	if err := gob.NewDecoder(f).Decode(&c); err != nil {
		return nil, fmt.Errorf("model: reading checkpoint %s: %w", f.Name(), err)
	}
	return &c, nil
}

// saveCheckpoint writes c to dir atomically: a temporary file in the same
// directory, synced, then renamed over the old checkpoint.
func saveCheckpoint(dir string, c *checkpoint) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := atomicfile.Create(filepath.Join(dir, CheckpointFile))
	if err != nil {
		return err
	}
	defer f.Abort()
	if err = gob.NewEncoder(f).Encode(c); err != nil {
		return fmt.Errorf("model: writing checkpoint: %w", err)
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Commit(); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil { // make the rename durable; best effort
		d.Sync()
		d.Close()
	}
	return nil
}

// checkpointWriter writes checkpoints in the background, one at a time, so
// that encoding and syncing one (tens of milliseconds) overlaps the next
// epoch instead of adding to it.
type checkpointWriter struct {
	dir     string
	pending chan error // the write in flight; nil if none
}

// save waits for the previous write, then writes a deep copy of c in the
// background. It returns the previous write's error.
func (w *checkpointWriter) save(c *checkpoint) error {
	if err := w.wait(); err != nil {
		return err
	}
	snap := *c
	snap.Weights, snap.Best, snap.Adam = c.Weights.Clone(), c.Best.Clone(), c.Adam.Clone()
	snap.History = append([]EpochStats(nil), c.History...)
	done := make(chan error, 1)
	go func() { done <- saveCheckpoint(w.dir, &snap) }()
	w.pending = done
	return nil
}

// wait returns when no write is in flight, with the last write's error.
func (w *checkpointWriter) wait() error {
	if w.pending == nil {
		return nil
	}
	err := <-w.pending
	w.pending = nil
	return err
}
