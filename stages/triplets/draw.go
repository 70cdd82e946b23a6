package triplets

import (
	"context"
	"fmt"
	"runtime"
	"strconv"

	"golang.org/x/sync/errgroup"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/nprand"
)

// class holds the rows of one class and the rows of all other classes, as
// np.where(labels == c)[0] and np.where(labels != c)[0].
type class struct {
	anchors, negatives []int
}

// classIndices groups rows by label. The classes are 0..max(labels); each
// must have at least one row (and some other class must exist).
func classIndices(labels []uint8) ([]class, error) {
	if len(labels) == 0 {
		return nil, fmt.Errorf("no labels")
	}
	var counts [256]int
	maxLabel := 0
	for _, l := range labels {
		counts[l]++
		maxLabel = max(maxLabel, int(l))
	}
	if maxLabel == 0 {
		return nil, fmt.Errorf("only one class (0): negatives cannot be drawn")
	}
	classes := make([]class, maxLabel+1)
	for c := range classes {
		if counts[c] == 0 {
			return nil, fmt.Errorf("class %d of 0..%d has no rows", c, maxLabel)
		}
		classes[c].anchors = make([]int, 0, counts[c])
		classes[c].negatives = make([]int, 0, len(labels)-counts[c])
	}
	for i, l := range labels {
		for c := range classes {
			if c == int(l) {
				classes[c].anchors = append(classes[c].anchors, i)
			} else {
				classes[c].negatives = append(classes[c].negatives, i)
			}
		}
	}
	return classes, nil
}

// set is the drawn triplets, class-major: triplet i belongs to class
// i/perClass and its rows are rows[3i:3i+3] (anchor, positive, negative).
type set struct {
	perClass, classes int
	rows              []int64
	rng               string
	seed              uint32
}

func (t *set) len() int { return t.perClass * t.classes }

// draw draws perClass triplets per class. With rng "numpy" it consumes one
// stream exactly as the notebook's loop does after np.random.seed(seed):
// per class, per triplet, choice(anchors), choice(anchors),
// choice(negatives). With "per-class" each class has its own stream,
// seeded by classSeed, and the classes are drawn in parallel.
func draw(ctx context.Context, classes []class, perClass int, seed uint32, rng string) (*set, error) {
	t := &set{perClass: perClass, classes: len(classes), rows: make([]int64, 3*perClass*len(classes)), rng: rng, seed: seed}
	drawClass := func(ctx context.Context, rs *nprand.RandomState, c int) error {
		cl := classes[c]
		out := t.rows[3*c*perClass : 3*(c+1)*perClass]
		for i := 0; i < perClass; i++ {
			if i%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			out[3*i] = int64(rs.ChoiceFrom(cl.anchors))
			out[3*i+1] = int64(rs.ChoiceFrom(cl.anchors))
			out[3*i+2] = int64(rs.ChoiceFrom(cl.negatives))
		}
		return nil
	}
	switch rng {
	case RNGNumpy:
		rs := nprand.New(seed)
		for c := range classes {
			if err := drawClass(ctx, rs, c); err != nil {
				return nil, err
			}
		}
	case RNGPerClass:
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(runtime.GOMAXPROCS(0))
		for c := range classes {
			g.Go(func() error { return drawClass(gctx, nprand.New(classSeed(seed, c)), c) })
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("rng %q: want %q or %q", rng, RNGNumpy, RNGPerClass)
	}
	return t, nil
}

// classSeed derives the seed of class c's stream under rng "per-class":
// the upper half of SplitMix64's finaliser applied to seed<<32 | c.
func classSeed(seed uint32, c int) uint32 {
	z := uint64(seed)<<32 | uint64(uint32(c))
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return uint32(z >> 32)
}

// writeIndex writes one row per triplet: id, class, the three rows of
// images.npy and their labels.
func (t *set) writeIndex(path string, labels []uint8) error {
	n := t.len()
	id, cls := make([]int64, n), make([]int64, n)
	rows := [3][]int64{make([]int64, n), make([]int64, n), make([]int64, n)}
	lab := [3][]uint8{make([]uint8, n), make([]uint8, n), make([]uint8, n)}
	for i := 0; i < n; i++ {
		id[i], cls[i] = int64(i), int64(i/t.perClass)
		for j := range 3 {
			r := t.rows[3*i+j]
			rows[j][i], lab[j][i] = r, labels[r]
		}
	}
	c := artifacts.NewColumns().Int64("id", id).Int64("class", cls).
		Int64("anchor", rows[0]).Int64("positive", rows[1]).Int64("negative", rows[2]).
		Uint8("anchor_label", lab[0]).Uint8("positive_label", lab[1]).Uint8("negative_label", lab[2]).
		Metadata("rng", t.rng).Metadata("seed", strconv.FormatUint(uint64(t.seed), 10)).
		Metadata("per_class", strconv.Itoa(t.perClass))
	return artifacts.WriteArrow(path, c)
}
