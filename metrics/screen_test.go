package metrics

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	gblas "gonum.org/v1/gonum/blas"

	"github.com/siamese-pipeline/siamese/blas"
)

// TestScreenEqualsFloat32 checks that screening in bfloat16 (emulated where
// the CPU has no AMX) finds exactly the neighbours of the float32 pass, on
// data that takes each of its paths: candidates recomputed, whole queries
// recomputed (a collapsed embedding), heaps not full, ties, NaN and zero rows.
func TestScreenEqualsFloat32(t *testing.T) {
	t.Parallel()
	if !sumsByK() {
		t.Skip("the selected BLAS's sums may depend on the product's shape")
	}
	clustered := func(seed uint64, n, dim, classes int) []float32 {
		emb, _ := randEmb(rand.New(rand.NewPCG(seed, 3)), n, dim, classes)
		return emb
	}
	collapsed := func(seed uint64, n, dim int) []float32 {
		r := rand.New(rand.NewPCG(seed, 4))
		x := make([]float32, n*dim)
		for i := range x {
			x[i] = 1 + 1e-3*float32(r.NormFloat64())
		}
		return x
	}
	// Many exact duplicates: ties that only the index breaks.
	dups := func(seed uint64, n, dim int) []float32 {
		base := clustered(seed, 7, dim, 3)
		x := make([]float32, n*dim)
		for i := range n {
			copy(x[i*dim:], base[(i%7)*dim:(i%7+1)*dim])
		}
		return x
	}
	// NaN and zero rows among clustered ones.
	holes := func(seed uint64, n, dim int) []float32 {
		x := clustered(seed, n, dim, 4)
		for i := 0; i < n; i += 5 {
			for j := range dim {
				x[i*dim+j] = map[bool]float32{true: float32(math.NaN()), false: 0}[i%10 == 0]
			}
		}
		return x
	}
	// bfloat16's worst case (found in review): entries just past the
	// halfway points between bfloat16 values, signs chosen so that every
	// rounding error adds up, and two references whose float32
	// similarities are near-equal and of opposite sign: A and S differ by
	// about ¾ of 2⁻⁷, 1.5 times what an early bound allowed, and 0.7 %
	// inside the bound.
	adversarial := func() (ref, query []float32) {
		w := []float64{256, 64, 64, 64, 16, 16, 16, 4, 4, 1, 1, 1, // U
			256, 64, 64, 64, 16, 16, 16, 4, 4, 4, 1} // D
		q := make([]float32, len(w))
		for i, x := range w {
			d := 1.0 / 1024
			if i >= 12 {
				d = -d
			}
			q[i] = float32(math.Sqrt(x/1024) * (1 + 1.0/256 + d))
		}
		r2 := slices.Clone(q)
		for i := 12; i < len(r2); i++ {
			r2[i] = -r2[i]
		}
		r1 := slices.Clone(r2)
		for i := range r1 {
			r1[i] = -r1[i]
		}
		return append(r1, r2...), q
	}
	advRef, advQuery := adversarial()
	tests := []struct {
		name               string
		ref, query         []float32
		dim, kmax, keep    int
		wholeMin, wholeMax int // how many queries may be recomputed whole
	}{
		{"clustered", clustered(1, 3000, 32, 10), clustered(2, 257, 32, 10), 32, 5, 64, 0, 128},
		{"clustered, 128 dims", clustered(3, 2000, 128, 10), clustered(4, 100, 128, 10), 128, 5, 64, 0, 50},
		{"few candidates kept", clustered(5, 1000, 16, 4), clustered(6, 300, 16, 4), 16, 5, 10, 1, 299},
		{"collapsed", collapsed(7, 500, 16), collapsed(8, 40, 16), 16, 5, 64, 40, 40},
		{"duplicates", dups(9, 400, 8), clustered(10, 50, 8, 3), 8, 5, 64, 0, 50},
		{"fewer references than kept", clustered(11, 20, 8, 3), clustered(12, 30, 8, 3), 8, 5, 20, 0, 0},
		{"NaN and zero rows", holes(13, 600, 16), holes(14, 90, 16), 16, 5, 64, 0, 90},
		{"k of one", clustered(15, 800, 16, 5), clustered(16, 77, 16, 5), 16, 1, 8, 0, 77},
		{"bfloat16's worst case", advRef, advQuery, 23, 1, 2, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dim := tt.dim
			nq, nr := len(tt.query)/dim, len(tt.ref)/dim
			q, r := normalizeRows(tt.query, dim), normalizeRows(tt.ref, dim)
			want, err := nearestWith(context.Background(), blas.Float32(), q, nq, r, nr, dim, tt.kmax)
			if err != nil {
				t.Fatal(err)
			}
			got, whole, err := screen(context.Background(), q, nq, r, nr, dim, tt.kmax, tt.keep)
			if err != nil {
				t.Fatal(err)
			}
			if whole < tt.wholeMin || whole > tt.wholeMax {
				t.Errorf("%d of %d queries recomputed whole, want %d to %d", whole, nq, tt.wholeMin, tt.wholeMax)
			}
			for i := range nq {
				w, g := want[i*tt.kmax:(i+1)*tt.kmax], got[i*tt.kmax:(i+1)*tt.kmax]
				slices.SortFunc(w, cmpNeighbour)
				slices.SortFunc(g, cmpNeighbour)
				for j := range w {
					if math.Float32bits(w[j].sim) != math.Float32bits(g[j].sim) || w[j].idx != g[j].idx {
						t.Fatalf("query %d: screened %v, float32 %v", i, g, w)
					}
				}
			}
		})
	}
}

// TestScreenBoundHolds checks |A − S| < δ (half of screenBounds) for every
// pair of unit rows whose entries lie just short of or just past the
// halfway points between bfloat16 values (each rounding error near its
// largest, rounding towards or away from zero at random); one entry of each
// row, set last, makes its norm 1 to within float32's rounding, as
// normalizeRows does.
func TestScreenBoundHolds(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, dim := range []int{2, 3, 7, 16, 23, 128} {
		const n = 60
		x := make([]float32, n*dim)
		for i := range n {
			row := x[i*dim : (i+1)*dim]
			v := make([]float64, dim-1)
			var ss float64
			for j := range v {
				v[j] = r.NormFloat64()
				ss += v[j] * v[j]
			}
			var rest float64 = 1
			for j := range v {
				b := blas.RoundBF16(float32(v[j] * 0.95 / math.Sqrt(ss)))
				ulp := math.Float32frombits(math.Float32bits(b)+1<<16) - b
				// Between b and the next bfloat16 away from zero (in b's
				// binade), just short of or just past halfway.
				row[j] = b + ulp*float32(0.5+(1-2*float64(r.IntN(2)))*(1e-4+r.Float64()*1e-3))
				rest -= float64(row[j]) * float64(row[j])
			}
			row[dim-1] = float32(math.Sqrt(rest))
			var norm float64
			for _, e := range row {
				norm += float64(e) * float64(e)
			}
			if math.Abs(math.Sqrt(norm)-1) > 1e-6 {
				t.Fatalf("dim %d: row %d has norm %v", dim, i, math.Sqrt(norm))
			}
			for _, e := range row[:dim-1] { // still near halfway
				ulp := math.Abs(float64(math.Float32frombits(math.Float32bits(e)&^0xffff+1<<16) - math.Float32frombits(math.Float32bits(e)&^0xffff)))
				if d := math.Abs(float64(blas.RoundBF16(e) - e)); d < 0.49*ulp {
					t.Fatalf("dim %d: %v rounds by %g, less than half its ulp %g", dim, e, d, ulp)
				}
			}
		}
		a, s := make([]float32, n*n), make([]float32, n*n)
		blas.BF16().Sgemm(gblas.NoTrans, gblas.Trans, n, n, dim, 1, x, dim, x, dim, 0, a, n)
		blas.Float32().Sgemm(gblas.NoTrans, gblas.Trans, n, n, dim, 1, x, dim, x, dim, 0, s, n)
		bounds := screenBounds(x, n, x, n, dim)
		for i := range n {
			for j := range n {
				if d := math.Abs(float64(a[i*n+j] - s[i*n+j])); !(d < float64(bounds[i])/2) {
					t.Fatalf("dim %d, rows %d, %d: |A−S| = %g, δ = %g", dim, i, j, d, bounds[i]/2)
				}
			}
		}
	}
}

// TestScreenedAccuracies checks KNNAccuracies with screening on against off
// on the benchmark's kind of data.
func TestScreenedAccuracies(t *testing.T) {
	if !sumsByK() {
		t.Skip("the selected BLAS's sums may depend on the product's shape")
	}
	r := rand.New(rand.NewPCG(21, 21))
	ref, refLabels := randEmb(r, 4000, 64, 10)
	query, queryLabels := randEmb(r, 500, 64, 10)
	ks := []int{1, 5, 9}
	run := func(on bool) []float64 {
		defer func(f func() bool) { screening = f }(screening)
		screening = func() bool { return on }
		acc, err := KNNAccuracies(context.Background(), ref, refLabels, query, queryLabels, 64, ks...)
		if err != nil {
			t.Fatal(err)
		}
		return acc
	}
	if on, off := run(true), run(false); !slices.Equal(on, off) {
		t.Errorf("accuracies for k=%v: screened %v, float32 %v", ks, on, off)
	}
}

// TestScreenCancel checks that screening returns ctx's error.
func TestScreenCancel(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 22))
	ref, _ := randEmb(r, 500, 16, 4)
	query, _ := randEmb(r, 50, 16, 4)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := screen(ctx, query, 50, ref, 500, 16, 5, 64); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
