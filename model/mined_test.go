package model

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
)

// classImages draws n images of dim values in classes clusters.
func classImages(seed uint64, n, dim, classes int) Images {
	x, y := labelled(seed, n, dim, classes, 0.7)
	return Images{N: n, Dim: dim, Data: x, Labels: y}
}

// TestMinedEpochs: each batch holds P distinct classes × K images of each;
// an epoch covers every image when the classes are balanced; an epoch
// depends only on the seed and its number.
func TestMinedEpochs(t *testing.T) {
	tests := []struct {
		name             string
		n, classes, p, k int
		wantBatches      int
	}{
		{"balanced", 120, 4, 4, 3, 10},
		{"some classes per batch", 120, 6, 2, 5, 12},
		{"classes smaller than K", 20, 5, 3, 6, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			im := classImages(1, tc.n, 3, tc.classes)
			cfg := smallConfig(3, 2)
			cfg.Seed = 9
			m := Mined(im, Batches{Mining: BatchAll, Classes: tc.p, PerClass: tc.k}).(*mined)
			if err := m.check(cfg); err != nil {
				t.Fatal(err)
			}
			nb := m.epoch(cfg, 0)
			if nb != tc.wantBatches {
				t.Fatalf("%d batches, want %d", nb, tc.wantBatches)
			}
			first := slices.Clone(m.plan)
			seen := map[int32]int{}
			for b := range nb {
				rows := m.plan[b*tc.p*tc.k : (b+1)*tc.p*tc.k]
				classes := map[int32]bool{}
				for g := range tc.p {
					c := im.Labels[rows[g*tc.k]]
					if classes[c] {
						t.Fatalf("batch %d: class %d twice", b, c)
					}
					classes[c] = true
					for _, r := range rows[g*tc.k : (g+1)*tc.k] {
						if im.Labels[r] != c {
							t.Fatalf("batch %d: group of class %d holds image %d of class %d", b, c, r, im.Labels[r])
						}
						seen[r]++
					}
				}
			}
			if tc.name == "balanced" && len(seen) != tc.n {
				t.Errorf("a balanced epoch used %d of %d images", len(seen), tc.n)
			}
			m.epoch(cfg, 1)
			if slices.Equal(m.plan, first) {
				t.Error("epochs 0 and 1 drew the same batches")
			}
			m.epoch(cfg, 0)
			if !slices.Equal(m.plan, first) {
				t.Error("epoch 0 drawn twice differs")
			}
		})
	}
}

func TestMinedRejects(t *testing.T) {
	cfg := smallConfig(3, 2)
	good := classImages(1, 30, 3, 3)
	tests := []struct {
		name string
		im   Images
		b    Batches
	}{
		{"more classes per batch than classes", good, Batches{Mining: BatchAll, Classes: 4, PerClass: 2}},
		{"one image a class", good, Batches{Mining: BatchAll, Classes: 2, PerClass: 1}},
		{"unknown mining", good, Batches{Mining: "hardest", Classes: 2, PerClass: 2}},
		{"dimension", classImages(1, 30, 4, 3), Batches{Mining: BatchAll, Classes: 2, PerClass: 2}},
		{"short labels", Images{N: 30, Dim: 3, Data: good.Data, Labels: good.Labels[:29]}, Batches{Mining: BatchAll, Classes: 2, PerClass: 2}},
		{"negative label", Images{N: 1, Dim: 3, Data: good.Data[:3], Labels: []int32{-1}}, Batches{Mining: BatchAll, Classes: 2, PerClass: 2}},
	}
	for _, tc := range tests {
		if _, err := Fit(context.Background(), cfg, Mined(tc.im, tc.b), Triplets{}, TrainOptions{}); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// TestMinedTrainingSeparatesClasses: a few epochs of each mining pull the
// clusters apart: the validation triplets' loss falls.
func TestMinedTrainingSeparatesClasses(t *testing.T) {
	for _, m := range Minings {
		t.Run(string(m), func(t *testing.T) {
			cfg := smallConfig(8, 16, 8)
			cfg.Epochs, cfg.Patience, cfg.LR, cfg.Margin, cfg.Seed = 8, 100, 3e-3, 0.2, 5
			im := classImages(2, 240, cfg.Input, 4)
			val := classTriplets(60, im)
			w0 := InitWeights(cfg)
			before := Loss(w0, val, cfg.Margin)
			res, err := Fit(context.Background(), cfg, Mined(im, Batches{Mining: m, Classes: 4, PerClass: 6}), val, TrainOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if after := Loss(res.Best, val, cfg.Margin); !(after < 0.5*before) {
				t.Errorf("validation loss %g → %g", before, after)
			}
		})
	}
}

// classTriplets picks n triplets of im's images (anchor and positive of one
// class, negative of another), deterministically; im has 4 classes or more.
func classTriplets(n int, im Images) Triplets {
	byClass := map[int32][]int{}
	for i, l := range im.Labels {
		byClass[l] = append(byClass[l], i)
	}
	t := Triplets{N: n, Dim: im.Dim, Data: make([]float32, 0, 3*n*im.Dim)}
	for i := range n {
		c, o := int32(i%4), int32((i+1+i/4%3)%4)
		a, p, q := byClass[c][i%len(byClass[c])], byClass[c][(i+7)%len(byClass[c])], byClass[o][i%len(byClass[o])]
		for _, r := range []int{a, p, q} {
			t.Data = append(t.Data, im.Data[r*im.Dim:(r+1)*im.Dim]...)
		}
	}
	return t
}

// TestMinedResumeIsBitIdentical: a mined run killed in epoch 3 and resumed
// from its checkpoint ends with the weights of an uninterrupted run; a
// different mining does not resume it.
func TestMinedResumeIsBitIdentical(t *testing.T) {
	cfg := smallConfig(8, 16, 8)
	cfg.Epochs, cfg.Patience, cfg.LR, cfg.Seed, cfg.Schedule, cfg.Warmup = 5, 10, 3e-3, 77, OneCycle, 0.3
	im := classImages(4, 200, cfg.Input, 5)
	val := classTriplets(20, im)
	mode := func(m Mining) Mode { return Mined(im, Batches{Mining: m, Classes: 3, PerClass: 4}) }
	full, err := Fit(context.Background(), cfg, mode(BatchAll), val, TrainOptions{CheckpointDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	epochs := 0
	_, err = Fit(ctx, cfg, mode(BatchAll), val, TrainOptions{CheckpointDir: dir,
		OnEpoch: func(EpochStats) { epochs++ },
		OnBatch: func(b, _ int, _ float64) {
			if epochs == 2 && b == 6 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err = %v", err)
	}
	resumed, err := Fit(context.Background(), cfg, mode(BatchAll), val, TrainOptions{CheckpointDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !resumed.Resumed || !resumed.Best.Equal(full.Best) {
		t.Fatalf("resumed=%v; the resumed run's weights differ from the uninterrupted run's", resumed.Resumed)
	}
	for i := range full.History {
		if a, b := full.History[i], resumed.History[i]; a.Loss != b.Loss || a.ValLoss != b.ValLoss {
			t.Fatalf("epoch %d: %+v vs %+v", i+1, a, b)
		}
	}
	other, err := Fit(context.Background(), cfg, mode(BatchHard), val, TrainOptions{CheckpointDir: dir})
	if err != nil || other.Resumed {
		t.Fatalf("another mining: err=%v resumed=%v", err, other.Resumed)
	}
}

func TestSchedules(t *testing.T) {
	const total = 100
	for _, tc := range []struct {
		schedule string
		warmup   float64
		check    func(lr []float64) bool
	}{
		{Constant, 0, func(lr []float64) bool { return lr[0] == 1e-3 && lr[99] == 1e-3 }},
		{Cosine, 0.1, func(lr []float64) bool {
			return near(lr[0], 1e-4) && near(lr[9], 1e-3) && near(lr[10], 1e-3) && near(lr[55], 5e-4) && lr[99] < 1e-6
		}},
		{Cosine, 0, func(lr []float64) bool { return near(lr[0], 1e-3) && lr[99] < 1e-6 }},
		{OneCycle, 0.3, func(lr []float64) bool {
			return near(lr[0], 1e-3/25) && near(lr[30], 1e-3) && lr[29] < 1e-3 && near(lr[99], 1e-3/25e4+(1e-3-1e-3/25e4)/2*(1+math.Cos(math.Pi*69/70)))
		}},
	} {
		cfg := DefaultConfig()
		cfg.LR, cfg.Schedule, cfg.Warmup = 1e-3, tc.schedule, tc.warmup
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		lr := make([]float64, total)
		for i := range lr {
			lr[i] = cfg.lrAt(i, total)
		}
		if !tc.check(lr) {
			t.Errorf("%s warm-up %g: %v", tc.schedule, tc.warmup, lr)
		}
	}
	for _, bad := range []Config{{Schedule: "linear"}, {Schedule: Cosine, Warmup: 1}} {
		cfg := DefaultConfig()
		cfg.Schedule, cfg.Warmup = bad.Schedule, bad.Warmup
		if cfg.Validate() == nil {
			t.Errorf("schedule %q warm-up %g accepted", bad.Schedule, bad.Warmup)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9+1e-6*math.Abs(b) }

// Mirrored images are loaded reversed row by row, about half of them, and
// the same ones on a second drawing of the epoch.
func TestMinedMirror(t *testing.T) {
	const w, h = 3, 2
	im := classImages(1, 40, w*h, 2)
	cfg := smallConfig(w*h, 2)
	m := Mined(im, Batches{Mining: BatchAll, Classes: 2, PerClass: 4, Mirror: w}).(*mined)
	if err := m.check(cfg); err != nil {
		t.Fatal(err)
	}
	n, err := m.net(InitWeights(cfg), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.close()
	nb := m.epoch(cfg, 0)
	first := slices.Clone(m.mirror)
	mirrored := 0
	for b := range nb {
		m.load(n, b)
		for s, r := range m.plan[b*8 : (b+1)*8] {
			src, got := im.Data[int(r)*w*h:int(r+1)*w*h], n.xData[s*w*h:(s+1)*w*h]
			want := slices.Clone(src)
			if m.mirror[b*8+s] {
				mirrored++
				for y := range h {
					slices.Reverse(want[y*w : (y+1)*w])
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("batch %d slot %d: loaded %v, want %v", b, s, got, want)
			}
		}
	}
	if mirrored == 0 || mirrored == len(m.plan) {
		t.Errorf("%d of %d images mirrored", mirrored, len(m.plan))
	}
	m.epoch(cfg, 0)
	if !slices.Equal(first, m.mirror) {
		t.Error("epoch 0 drawn twice mirrors other images")
	}
	if err := Mined(im, Batches{Mining: BatchAll, Classes: 2, PerClass: 4, Mirror: 4}).check(cfg); err == nil {
		t.Error("rows of 4 accepted for images of 6 values")
	}
}

// KeepLast returns the last epoch's weights where early stopping would
// restore an earlier, better one.
func TestKeepLast(t *testing.T) {
	cfg := smallConfig(12, 16, 8)
	cfg.Epochs, cfg.Patience, cfg.LR, cfg.Seed, cfg.KeepLast = 3, 10, 3e-3, 3, true
	train := clusterTriplets(1, 128, cfg.Input, false)
	val := clusterTriplets(2, 64, cfg.Input, true) // gets worse as training fits train
	res, err := Train(context.Background(), cfg, train, val, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.BestEpoch != 3 || len(res.History) != 3 {
		t.Fatalf("best epoch %d of %d, want the last, 3", res.BestEpoch, len(res.History))
	}
	if got, last := Loss(res.Best, val, cfg.Margin), res.History[2].ValLoss; got != last || !(last > res.History[0].ValLoss) {
		t.Fatalf("Best has val loss %g; the last epoch had %g, the first %g", got, last, res.History[0].ValLoss)
	}
}
