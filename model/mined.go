package model

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
)

// Images are labelled images to mine triplets from: N rows of Dim floats
// and a label in [0, classes) for each.
type Images struct {
	N, Dim int
	Data   []float32
	Labels []int32
}

// Check reports Images whose Data or Labels do not match N and Dim.
func (im Images) Check() error {
	if im.N < 0 || im.Dim <= 0 || len(im.Data) != im.N*im.Dim || len(im.Labels) != im.N {
		return fmt.Errorf("model: images N=%d Dim=%d but %d values and %d labels", im.N, im.Dim, len(im.Data), len(im.Labels))
	}
	for i, l := range im.Labels {
		if l < 0 {
			return fmt.Errorf("model: image %d has label %d", i, l)
		}
	}
	return nil
}

// Batches says how Mined draws its batches: Classes classes of PerClass
// images each, and the Mining of triplets inside each batch.
type Batches struct {
	Mining   Mining
	Classes  int // P
	PerClass int // K
	// Mirror, if positive, is the width of the images in pixels: each
	// drawn image is then mirrored left to right with probability 1/2.
	Mirror int
}

// Mined trains on batches of P classes × K images drawn from images, with
// the loss over the triplets mined in each batch (Config.Margin, the same
// cosine distance as Fixed). An epoch is N / (P·K) batches: each class's
// images are shuffled, and each batch takes P distinct classes at random
// and the next K images of each (a class's images are reshuffled when they
// run out), so an epoch sees about every image once.
func Mined(images Images, b Batches) Mode { return &mined{im: images, b: b} }

type mined struct {
	im      Images
	b       Batches
	byClass [][]int32 // image rows of each class
	plan    []int32   // rows of the prepared epoch's batches, one after the other
	mirror  []bool    // whether each image of plan is mirrored
	labels  []int32   // the labels of the loaded batch, read by the loss op
}

const minedStream = 0x2545f4914f6cdd1d

func (m *mined) Dim() int { return m.im.Dim }

func (m *mined) check(Config) error {
	if err := m.im.Check(); err != nil {
		return fmt.Errorf("train set: %w", err)
	}
	if !m.b.Mining.valid() {
		return fmt.Errorf("model: unknown mining %q", m.b.Mining)
	}
	if m.b.Classes < 2 || m.b.PerClass < 2 {
		return fmt.Errorf("model: mined batches need at least 2 classes of 2 images, got %d×%d", m.b.Classes, m.b.PerClass)
	}
	m.byClass = m.byClass[:0]
	for i, l := range m.im.Labels {
		for int(l) >= len(m.byClass) {
			m.byClass = append(m.byClass, nil)
		}
		m.byClass[l] = append(m.byClass[l], int32(i))
	}
	var present []int32
	for c, rows := range m.byClass {
		if len(rows) > 0 {
			present = append(present, int32(c))
		}
	}
	if m.b.Mirror < 0 || (m.b.Mirror > 0 && m.im.Dim%m.b.Mirror != 0) {
		return fmt.Errorf("model: images of %d values cannot be mirrored in rows of %d", m.im.Dim, m.b.Mirror)
	}
	if len(present) < m.b.Classes {
		return fmt.Errorf("model: batches of %d classes, but the training images have %d", m.b.Classes, len(present))
	}
	return nil
}

func (m *mined) key() dataKey {
	h := hashFloats(m.im.Data)
	for _, l := range m.im.Labels {
		h = (h ^ uint64(l)) * 1099511628211
	}
	return dataKey{TrainN: m.im.N, Dim: m.im.Dim, TrainHash: h,
		Mode: fmt.Sprintf("mined %s P=%d K=%d mirror=%d", m.b.Mining, m.b.Classes, m.b.PerClass, m.b.Mirror)}
}

func (m *mined) rows() int { return m.b.Classes * m.b.PerClass }

func (m *mined) net(w *Weights, cfg Config) (*net, error) {
	m.labels = make([]int32, m.rows())
	return buildNet(w, m.rows(), cfg.products(), func(st *batchState) G.Op {
		return newMinedLossOp(m.rows(), w.OutputDim(), m.b.Mining, cfg.Margin, m.labels, st)
	})
}

func (m *mined) epoch(cfg Config, e int) int {
	r := rand.New(rand.NewPCG(cfg.Seed, minedStream+uint64(e)))
	shuffle := func(v []int32) {
		for i := len(v) - 1; i > 0; i-- {
			j := int(r.Uint64N(uint64(i + 1)))
			v[i], v[j] = v[j], v[i]
		}
	}
	var classes []int32
	queues := make([][]int32, len(m.byClass))
	for c, rows := range m.byClass {
		if len(rows) > 0 {
			classes = append(classes, int32(c))
			queues[c] = append([]int32(nil), rows...)
			shuffle(queues[c])
		}
	}
	pos := make([]int, len(queues))
	batches := max(1, m.im.N/m.rows())
	m.plan, m.mirror = m.plan[:0], m.mirror[:0]
	for range batches {
		// P distinct classes: a partial Fisher–Yates shuffle.
		for i := range m.b.Classes {
			j := i + int(r.Uint64N(uint64(len(classes)-i)))
			classes[i], classes[j] = classes[j], classes[i]
			c := classes[i]
			for range m.b.PerClass {
				if pos[c] == len(queues[c]) {
					shuffle(queues[c])
					pos[c] = 0
				}
				m.plan = append(m.plan, queues[c][pos[c]])
				m.mirror = append(m.mirror, m.b.Mirror > 0 && r.Uint64()&1 == 1)
				pos[c]++
			}
		}
	}
	return batches
}

func (m *mined) load(n *net, b int) int {
	rows := m.plan[b*m.rows() : (b+1)*m.rows()]
	mirror := m.mirror[b*m.rows() : (b+1)*m.rows()]
	d := m.im.Dim
	for s, i := range rows {
		dst, src := n.xData[s*d:(s+1)*d], m.im.Data[int(i)*d:int(i+1)*d]
		if mirror[s] {
			w := m.b.Mirror
			for y := 0; y < d; y += w {
				for x := range w {
					dst[y+x] = src[y+w-1-x]
				}
			}
		} else {
			copy(dst, src)
		}
		m.labels[s] = m.im.Labels[i]
	}
	return len(rows)
}
