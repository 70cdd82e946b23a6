package blas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	gblas "gonum.org/v1/gonum/blas"
)

func TestRoundBF16(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		in   uint32
		want uint32
	}{
		{0x3f800000, 0x3f800000}, // 1
		{0x3f808000, 0x3f800000}, // a tie, to even (down)
		{0x3f818000, 0x3f820000}, // a tie, to even (up)
		{0x3f808001, 0x3f810000}, // above the tie
		{0x3f807fff, 0x3f800000}, // below the tie
		{0x80000000, 0x80000000}, // -0
		{0x00000001, 0x00000000}, // the smallest subnormal
		{0x00400000, 0x00000000}, // 2⁻¹²⁷, a subnormal: zero, as the CPU converts it
		{0x807fffff, 0x80000000}, // the largest negative subnormal: −0
		{0x00800000, 0x00800000}, // the smallest normal stays
		{0x7f7fffff, 0x7f800000}, // the largest float32 rounds to +Inf
		{0xff800000, 0xff800000}, // -Inf
	} {
		got := math.Float32bits(RoundBF16(math.Float32frombits(tc.in)))
		if got != tc.want {
			t.Errorf("RoundBF16(%#08x) = %#08x, want %#08x", tc.in, got, tc.want)
		}
	}
	if got := RoundBF16(nan); got == got {
		t.Errorf("RoundBF16(NaN) = %g", got)
	}
	if got := RoundBF16(math.Float32frombits(0x7fffffff)); got == got {
		t.Errorf("RoundBF16(NaN 0x7fffffff) = %g", got)
	}
}

// withBF16Paths runs f on the AMX path (where this machine has it) and on
// the emulated one.
func withBF16Paths(t *testing.T, f func(t *testing.T)) {
	saved := amxOff
	defer func() { amxOff = saved }()
	paths := []bool{false}
	if amxReady() {
		paths = append(paths, true)
	} else {
		t.Log("no AMX here: the emulated path only")
	}
	for _, useAMX := range paths {
		amxOff = !useAMX
		t.Run(fmt.Sprintf("amx=%v", useAMX), f)
	}
}

// TestSgemmBF16 compares BF16's Sgemm with a float64 product of the
// bf16-rounded operands: the only differences are float32 sums, within
// k·2⁻²³ of Σ|a·b| (and NaN where a NaN goes in).
func TestSgemmBF16(t *testing.T) {
	withBF16Paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		impl := BF16()
		sizes := []int{1, 7, 31, 32, 33, 64, 96, 130}
		idx := 0
		for _, m := range sizes {
			for _, n := range sizes {
				for _, k := range []int{1, 31, 32, 33, 45, 96, 130} {
					for _, tA := range transposes {
						for _, tB := range transposes {
							idx++
							tc := gemmCase{tA: tA, tB: tB, m: m, n: n, k: k,
								alpha: []float32{1, 1, -0.5, 2}[idx%4], beta: []float32{0, 1, 0.5, 0}[(idx/4)%4],
								padA: idx % 3, padB: (idx / 3) % 2, padC: (idx / 2) % 3}
							checkBF16(t, impl, tc, rng)
						}
					}
				}
			}
		}
		// The training and embedding shapes.
		for _, tc := range []gemmCase{
			{tA: 'N', tB: 'N', m: 96, n: 512, k: 784, alpha: 1, beta: 1},
			{tA: 'T', tB: 'N', m: 784, n: 512, k: 96, alpha: 1},
			{tA: 'N', tB: 'T', m: 96, n: 256, k: 512, alpha: 1},
			{tA: 'N', tB: 'N', m: 1000, n: 128, k: 256, alpha: 1, beta: 1},
		} {
			checkBF16(t, impl, tc, rng)
		}
	})
}

func checkBF16(t *testing.T, impl gblas.Float32, tc gemmCase, rng *rand.Rand) {
	t.Helper()
	d := tc.data(rng)
	c0 := append([]float32(nil), d.c...)
	impl.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, d.a, d.lda, d.b, d.ldb, tc.beta, d.c, d.ldc)
	for i := range tc.m {
		for j := range tc.n {
			var sum, abs float64
			for p := range tc.k {
				x := float64(RoundBF16(opAt(tc.tA != gblas.NoTrans, d.a, d.lda, i, p)))
				y := float64(RoundBF16(opAt(tc.tB != gblas.NoTrans, d.b, d.ldb, p, j)))
				sum += x * y
				abs += math.Abs(x * y)
			}
			want := float64(tc.alpha)*sum + float64(tc.beta)*float64(c0[i*d.ldc+j])
			tol := (float64(tc.k)+2)*0x1p-23*(math.Abs(float64(tc.alpha))*abs+math.Abs(float64(tc.beta*c0[i*d.ldc+j]))) + 1e-30
			if got := float64(d.c[i*d.ldc+j]); math.Abs(got-want) > tol {
				t.Fatalf("%+v: c[%d,%d] = %g, want %g ± %g", tc, i, j, got, want, tol)
			}
		}
	}
	// Padding past each row of C is left alone.
	for i := range tc.m {
		for j := tc.n; j < d.ldc && i*d.ldc+j < len(d.c); j++ {
			if math.Float32bits(d.c[i*d.ldc+j]) != math.Float32bits(c0[i*d.ldc+j]) {
				t.Fatalf("%+v: c[%d,%d] past the row changed", tc, i, j)
			}
		}
	}
}

func TestSgemmBF16NaN(t *testing.T) {
	withBF16Paths(t, func(t *testing.T) {
		tc := gemmCase{tA: 'N', tB: 'N', m: 40, n: 40, k: 40, alpha: 1}
		d := tc.data(rand.New(rand.NewPCG(5, 6)))
		d.a[3*d.lda+5] = float32(math.NaN())
		BF16().Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, d.a, d.lda, d.b, d.ldb, 0, d.c, d.ldc)
		for j := range tc.n {
			if v := d.c[3*d.ldc+j]; v == v {
				t.Fatalf("c[3,%d] = %g, want NaN", j, v)
			}
		}
		if v := d.c[4*d.ldc]; v != v {
			t.Fatalf("c[4,0] = NaN")
		}
	})
}

func BenchmarkSgemmBF16(b *testing.B) {
	shapes := []struct {
		tA, tB  gblas.Transpose
		m, n, k int
	}{
		{'N', 'N', 96, 512, 784}, {'T', 'N', 784, 512, 96}, {'N', 'T', 96, 256, 512}, {'N', 'N', 96, 128, 256},
	}
	for _, s := range shapes {
		tc := gemmCase{tA: s.tA, tB: s.tB, m: s.m, n: s.n, k: s.k, alpha: 1}
		d := tc.data(rand.New(rand.NewPCG(1, 1)))
		for _, im := range []struct {
			name string
			impl gblas.Float32
		}{{"float32", Float32()}, {"bf16-" + BF16Name(), BF16()}} {
			b.Run(fmt.Sprintf("%c%c_%dx%dx%d/%s", s.tA, s.tB, s.m, s.n, s.k, im.name), func(b *testing.B) {
				for b.Loop() {
					im.impl.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, d.a, d.lda, d.b, d.ldb, 0, d.c, d.ldc)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// TestTransposeTiles: the vector transpose of 16 × 16 32-bit words against
// the obvious loop.
func TestTransposeTiles(t *testing.T) {
	if !amxReady() {
		t.Skip("no AMX here")
	}
	const n = 3
	a := make([]uint32, n*256)
	for i := range a {
		a[i] = uint32(i)*2654435761 + 1
	}
	want := make([]uint32, len(a))
	for k := range n {
		for r := range 16 {
			for c := range 16 {
				want[k*256+c*16+r] = a[k*256+r*16+c]
			}
		}
	}
	transposeTilesAVX512((*uint16)(unsafe.Pointer(&a[0])), n)
	for i := range a {
		if a[i] != want[i] {
			t.Fatalf("word %d: %#x, want %#x", i, a[i], want[i])
		}
	}
}
