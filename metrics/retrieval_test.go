package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// circle returns 2-D unit vectors at the given angles (degrees).
func circle(deg ...float64) []float32 {
	out := make([]float32, 0, 2*len(deg))
	for _, d := range deg {
		r := d * math.Pi / 180
		out = append(out, float32(math.Cos(r)), float32(math.Sin(r)))
	}
	return out
}

// Hand-computed example (angles in degrees; cosine order = angular order):
//
//	item  angle class R  2 nearest others      AP@R
//	0     0     A     2  10(A) 25(B)           (1/1)/2     = 0.5
//	1     10    A     2  0(A)  25(B)           (1/1)/2     = 0.5
//	2     25    B     2  10(A) 42(A)           0
//	3     42    A     2  25(B) 10(A)           (1/2)/2     = 0.25
//	4     90    B     2  42(A) 150(B)          (1/2)/2     = 0.25
//	5     150   B     2  90(B) 42(A)           (1/1)/2     = 0.5
//	6     270   C     0  skipped (alone in its class)
//
// MAP@R = 2/6. Nearest neighbours: 0→1 ✓, 1→0 ✓, 2→1 ✗, 3→2 ✗, 4→3 ✗,
// 5→4 ✓, 6→0 ✗, so P@1 = 3/7.
var (
	handEmb    = circle(0, 10, 25, 42, 90, 150, 270)
	handLabels = []int{0, 0, 1, 0, 1, 1, 2}
)

func TestMAPAtRHand(t *testing.T) {
	if got := MAPAtR(handEmb, handLabels, 2); !near(got, 2.0/6, 1e-12) {
		t.Errorf("MAPAtR = %v, want %v", got, 2.0/6)
	}
	if got := PrecisionAt1(handEmb, handLabels, 2); !near(got, 3.0/7, 1e-12) {
		t.Errorf("PrecisionAt1 = %v, want %v", got, 3.0/7)
	}
}

func TestMAPAtRCases(t *testing.T) {
	for _, c := range []struct {
		name   string
		emb    []float32
		labels []int
		dim    int
		want   float64
	}{
		{"separated", circle(0, 5, 10, 180, 185, 190), []int{1, 1, 1, 2, 2, 2}, 2, 1},
		// A items: 0° → 10(B) 20(A): 1/4; 20° → 10(B) 32(A): 1/4; 32° → 20(A) 10(B): 1/2.
		{"mixed", circle(0, 10, 20, 32), []int{0, 1, 0, 0}, 2, (0.25 + 0.25 + 0.5) / 3},
		{"all singletons", circle(0, 90), []int{0, 1}, 2, 0},
		// Identical embeddings: ties ranked by index. Item 0: 1(B),2(A),3(A) → R=2: (1/2)/2.
		// Item 2: 0(A),1(B) → 0.5; item 3: 0(A),1(B) → 0.5; item 1 alone.
		{"identical", []float32{1, 1, 1, 1}, []int{0, 1, 0, 0}, 1, (0.25 + 0.5 + 0.5) / 3},
		{"empty", nil, nil, 4, 0},
	} {
		if got := MAPAtR(c.emb, c.labels, c.dim); !near(got, c.want, 1e-12) {
			t.Errorf("%s: MAPAtR = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestPrecisionAt1Cases(t *testing.T) {
	if got := PrecisionAt1(circle(0, 5, 180, 185), []int{1, 1, 2, 2}, 2); got != 1 {
		t.Errorf("separated: %v", got)
	}
	if got := PrecisionAt1(circle(0), []int{1}, 2); got != 0 {
		t.Errorf("single item: %v", got)
	}
}

func TestKNNHand(t *testing.T) {
	ref := circle(0, 10, 20, 90, 100, 180)
	refLabels := []int{0, 0, 1, 1, 1, 2}
	query := circle(6, 95, 170, 14)
	for _, c := range []struct {
		k    int
		want []int
	}{
		{1, []int{0, 1, 2, 0}},
		{2, []int{0, 1, 2, 0}},  // vote ties 1–1 → nearest neighbour's label (10°→0, 180°→2)
		{3, []int{0, 1, 1, 0}},  // 6°: 10,0,20 → 0 wins 2–1; 170°: 180,100,90 → 1 wins 2–1
		{6, []int{1, 1, 1, 1}},  // global majority
		{50, []int{1, 1, 1, 1}}, // k clamped to len(ref)
	} {
		pred := knnPredict(ref, refLabels, query, 2, c.k)
		for i := range pred {
			if pred[i] != c.want[i] {
				t.Errorf("k=%d query %d: got %d want %d", c.k, i, pred[i], c.want[i])
			}
		}
	}
	acc := KNNAccuracy(ref, refLabels, query, []int{0, 1, 1, 0}, 2, 3)
	if acc != 1 {
		t.Errorf("KNNAccuracy = %v, want 1", acc)
	}
	if got := KNNAccuracy(ref, refLabels, nil, nil, 2, 3); got != 0 {
		t.Errorf("empty query: %v", got)
	}
}

func TestKNNPanicsOnBadShape(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic on mismatched lengths")
		}
	}()
	KNNAccuracy([]float32{1, 2, 3}, []int{0, 1}, []float32{1, 2}, []int{0}, 2, 1)
}

// TestBest checks the bucketed selection and radix sort of SelfRetrieval
// against a full sort, with many equal similarities, ±0, values just past
// ±1 and heavily loaded buckets.
func TestBest(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var sc rankScratch
	for trial := 0; trial < 500; trial++ {
		n := 2 + r.IntN(300)
		s := make([]float32, n)
		for i := range s {
			switch trial % 3 {
			case 0:
				s[i] = float32(r.IntN(5)-2) / 2
			case 1:
				s[i] = float32(r.Float64()*2.0002 - 1.0001)
			default:
				s[i] = float32(math.Copysign(0, float64(r.IntN(2)-1))) + float32(r.IntN(3))*1e-7
			}
		}
		skip := r.IntN(n)
		k := 1 + r.IntN(n-1)
		var all []neighbour
		for i, v := range s {
			if i != skip {
				all = append(all, neighbour{v, int32(i)})
			}
		}
		sortN(all)
		got := sc.best(s, skip, k)
		if len(got) != k {
			t.Fatalf("n=%d k=%d: %d keys", n, k, len(got))
		}
		for i, key := range got {
			if keyIndex(key) != int(all[i].idx) {
				t.Fatalf("trial %d n=%d k=%d skip=%d: rank %d is %d, want %d (sim %v)", trial, n, k, skip, i,
					keyIndex(key), all[i].idx, all[i].sim)
			}
		}
	}
}

// TestBestBySample checks best on rows long enough to be sampled against
// byBuckets (which TestBest checks against a full sort), with NaNs, ties,
// ±0, rows whose sample misleads (every sampled similarity high) or puts
// the threshold in the lowest bucket, and that the sample serves typical
// rows.
func TestBestBySample(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	var sc, ref rankScratch
	sampled := 0
	for trial := 0; trial < 300; trial++ {
		n := 1000 + r.IntN(5000)
		s := make([]float32, n)
		for i := range s {
			switch trial % 6 {
			case 0, 1:
				s[i] = float32(r.Float64()*2 - 1)
			case 2:
				s[i] = float32(r.IntN(9)-4) / 4
			case 3: // the sample sees only the best
				s[i] = float32(r.Float64()*0.1 - 0.9)
				if i%sampleStride == 0 {
					s[i] = 0.9
				}
			case 4: // NaNs, zeros and values near −1
				s[i] = [...]float32{float32(math.NaN()), 0, float32(math.Copysign(0, -1)), -1, -0.9999, float32(r.Float64())}[r.IntN(6)]
			default: // mostly NaNs and −1: the r-th best in the lowest bucket
				s[i] = [...]float32{float32(math.NaN()), -1, float32(r.Float64())}[r.IntN(3)]
			}
		}
		skip, k := r.IntN(n), 1+r.IntN(n/3)
		if trial%6 == 5 {
			k = n * 2 / 5
		}
		if trial%7 == 0 {
			k = 1 + r.IntN(3)
		}
		if _, ok := sc.bySample(s, skip, k); ok {
			sampled++
		}
		got := slices.Clone(sc.best(s, skip, k))
		want := ref.byBuckets(s, skip, k)
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d n=%d k=%d skip=%d: sampled keys differ from counted ones", trial, n, k, skip)
		}
	}
	if sampled < 100 {
		t.Errorf("the sample served %d of 300 rows", sampled)
	}
}

// TestRankKeyOrder checks that keys order as better does.
func TestRankKeyOrder(t *testing.T) {
	sims := []float32{-1, -0.5, float32(math.Copysign(0, -1)), 0, 1e-30, 0.5, 1}
	for _, a := range sims {
		for _, b := range sims {
			for _, ia := range []int{0, 7, 1 << 20} {
				for _, ib := range []int{1, 7, 1 << 21} {
					na, nb := neighbour{a, int32(ia)}, neighbour{b, int32(ib)}
					if got, want := rankKey(a, ia) < rankKey(b, ib), better(na, nb); got != want {
						t.Errorf("%v@%d vs %v@%d: key says better=%v, want %v", a, ia, b, ib, got, want)
					}
				}
			}
			if keyIndex(rankKey(a, 12345)) != 12345 {
				t.Errorf("keyIndex(rankKey(%v, 12345)) = %d", a, keyIndex(rankKey(a, 12345)))
			}
		}
	}
}

func sortN(a []neighbour) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && better(a[j], a[j-1]); j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// TestPushAll checks the heap selection over column blocks against a full
// sort, with many equal similarities.
func TestPushAll(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 300; trial++ {
		n := 1 + r.IntN(60)
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.IntN(6))
		}
		k := 1 + r.IntN(n)
		var all []neighbour
		for i, v := range s {
			all = append(all, neighbour{v, int32(i)})
		}
		sortN(all)
		h := make([]neighbour, k)
		for i := range h {
			h[i] = neighbour{float32(math.Inf(-1)), math.MaxInt32}
		}
		for j0 := 0; j0 < n; {
			j1 := min(n, j0+1+r.IntN(7))
			pushAll(h, s[j0:j1], j0)
			j0 = j1
		}
		sortN(h)
		if !slices.Equal(h, all[:k]) {
			t.Fatalf("n=%d k=%d: got %v want %v", n, k, h, all[:k])
		}
	}
}

// TestPushAllMatchesScalar: pushAll (which skips eight similarities at a
// time where it can) keeps the heap the one-by-one loop keeps, on long
// blocks with ties, NaNs and infinities.
func TestPushAllMatchesScalar(t *testing.T) {
	scalar := func(h []neighbour, sims []float32, j0 int) {
		for j, s := range sims {
			if s > h[0].sim {
				h[0] = neighbour{s, int32(j0 + j)}
				siftDown(h)
			}
		}
	}
	r := rand.New(rand.NewPCG(7, 8))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0}
	for trial := range 300 {
		n := 1 + r.IntN(400)
		s := make([]float32, n)
		for i := range s {
			if r.IntN(10) == 0 {
				s[i] = special[r.IntN(len(special))]
			} else {
				s[i] = float32(r.IntN(50)) / 7
			}
		}
		k := 1 + r.IntN(8)
		h, want := make([]neighbour, k), make([]neighbour, k)
		for i := range h {
			h[i] = neighbour{float32(math.Inf(-1)), math.MaxInt32}
		}
		copy(want, h)
		for j0 := 0; j0 < n; {
			j1 := min(n, j0+1+r.IntN(64))
			pushAll(h, s[j0:j1], j0)
			scalar(want, s[j0:j1], j0)
			j0 = j1
		}
		if !slices.EqualFunc(h, want, func(a, b neighbour) bool {
			return math.Float32bits(a.sim) == math.Float32bits(b.sim) && a.idx == b.idx
		}) {
			t.Fatalf("trial %d n=%d k=%d: got %v, one by one %v", trial, n, k, h, want)
		}
	}
}
