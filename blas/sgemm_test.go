package blas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/cpu"
	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

type gemmCase struct {
	tA, tB           gblas.Transpose
	m, n, k          int
	alpha, beta      float32
	padA, padB, padC int // extra leading-dimension slack
	nanC             bool
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("%c%c m=%d n=%d k=%d α=%g β=%g pad=%d,%d,%d", tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.padA, tc.padB, tc.padC)
}

type gemmData struct {
	a, b, c       []float32
	lda, ldb, ldc int
}

func (tc gemmCase) data(rng *rand.Rand) gemmData {
	ar, ac := tc.m, tc.k
	if tc.tA != gblas.NoTrans {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.tB != gblas.NoTrans {
		br, bc = tc.n, tc.k
	}
	d := gemmData{lda: max(1, ac+tc.padA), ldb: max(1, bc+tc.padB), ldc: max(1, tc.n+tc.padC)}
	fill := func(rows, ld int) []float32 {
		s := make([]float32, rows*ld)
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
		return s
	}
	d.a, d.b, d.c = fill(ar, d.lda), fill(br, d.ldb), fill(tc.m, d.ldc)
	if tc.nanC {
		for i := range d.c {
			d.c[i] = float32(math.NaN())
		}
	}
	return d
}

// checkGemm runs impl's Sgemm on tc and compares with a float64 reference.
func checkGemm(t *testing.T, impl gblas.Float32, tc gemmCase, rng *rand.Rand) {
	t.Helper()
	d := tc.data(rng)
	want, tol := gemmRef(tc, d)
	checkAgainst(t, impl, tc, d, want, tol)
}

// gemmRef is tc's product on d in float64, with an error bound per element.
func gemmRef(tc gemmCase, d gemmData) (want, tol []float64) {
	at := func(i, p int) float64 {
		if tc.tA != gblas.NoTrans {
			return float64(d.a[p*d.lda+i])
		}
		return float64(d.a[i*d.lda+p])
	}
	bt := func(p, j int) float64 {
		if tc.tB != gblas.NoTrans {
			return float64(d.b[j*d.ldb+p])
		}
		return float64(d.b[p*d.ldb+j])
	}
	want, tol = make([]float64, len(d.c)), make([]float64, len(d.c))
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			idx := i*d.ldc + j
			var sum, abs float64
			for p := 0; p < tc.k; p++ {
				v := at(i, p) * bt(p, j)
				sum += v
				abs += math.Abs(v)
			}
			want[idx] = float64(tc.alpha) * sum
			abs *= math.Abs(float64(tc.alpha))
			if tc.beta != 0 {
				want[idx] += float64(tc.beta) * float64(d.c[idx])
				abs += math.Abs(float64(tc.beta) * float64(d.c[idx]))
			}
			tol[idx] = 2e-7*float64(tc.k+4)*abs + 1e-30
		}
	}
	return want, tol
}

// checkAgainst runs impl's Sgemm on tc and d and compares with want.
func checkAgainst(t *testing.T, impl gblas.Float32, tc gemmCase, d gemmData, want, tol []float64) {
	t.Helper()
	c := append([]float32(nil), d.c...)
	impl.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, d.a, d.lda, d.b, d.ldb, tc.beta, c, d.ldc)
	for i := 0; i < tc.m; i++ {
		for j := 0; j < d.ldc; j++ {
			idx := i*d.ldc + j
			got := c[idx]
			if j >= tc.n { // outside C: untouched
				if math.Float32bits(got) != math.Float32bits(d.c[idx]) {
					t.Fatalf("%v: c[%d,%d] outside C changed", tc, i, j)
				}
				continue
			}
			if diff := math.Abs(float64(got) - want[idx]); !(diff <= tol[idx]) {
				t.Fatalf("%v: c[%d,%d] = %g, want %g (diff %g, tol %g)", tc, i, j, got, want[idx], diff, tol[idx])
			}
		}
	}
}

var (
	transposes = []gblas.Transpose{gblas.NoTrans, gblas.Trans}
	scalars    = []float32{0, 1, -0.5, 2}
)

// withKernels runs f once per micro-kernel this CPU can run, with panels
// always packed and with panels read in place where they can be.
func withKernels(t *testing.T, f func(t *testing.T)) {
	eachKernel(func(name string) { t.Run(name, f) })
}

// eachKernel calls f with each variant of this package's Sgemm selected.
func eachKernel(f func(name string)) {
	saved, savedPacked, savedDirect := kern, usePacked, direct
	defer func() { kern, usePacked, direct = saved, savedPacked, savedDirect }()
	usePacked = true
	for _, k := range kernels {
		for _, d := range []bool{false, true} {
			kern, direct = k, d
			f(fmt.Sprintf("%s/direct=%v", k.name, d))
		}
	}
}

func TestSgemmShapes(t *testing.T) {
	withKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		impl := sgemmImpl{}
		sizes := []int{1, 5, 6, 7, 16, 17, 33, 130}
		idx := 0
		for _, m := range sizes {
			for _, n := range sizes {
				for _, k := range sizes {
					for _, tA := range transposes {
						for _, tB := range transposes {
							idx++
							tc := gemmCase{tA: tA, tB: tB, m: m, n: n, k: k,
								alpha: scalars[idx%4], beta: scalars[(idx/4)%4],
								padA: idx % 3, padB: (idx / 3) % 3, padC: (idx / 9) % 3}
							tc.nanC = tc.beta == 0 && idx%2 == 0
							checkGemm(t, impl, tc, rng)
						}
					}
				}
			}
		}
	})
}

// The shapes the model uses: forward x·W, dW = xᵀ·dz, dx = dz·Wᵀ, plus blocks
// larger than kcMax, mcBlock and ncBlock.
var realShapes = [][3]int{ // m, n, k
	{96, 512, 784}, {96, 256, 512}, {96, 128, 256},
	{784, 512, 96}, {512, 256, 96}, {256, 128, 96},
	{96, 784, 512}, {96, 512, 256}, {96, 256, 128},
	{32, 512, 784}, {512, 512, 784}, {1500, 128, 256},
	{200, 1100, 300},
}

func TestSgemmRealShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("slow reference")
	}
	// The float64 reference is the slow part: one per case, for every kernel.
	rng := rand.New(rand.NewPCG(3, 4))
	for i, s := range realShapes {
		for _, tA := range transposes {
			for _, tB := range transposes {
				i++
				tc := gemmCase{tA: tA, tB: tB, m: s[0], n: s[1], k: s[2],
					alpha: scalars[1+i%3], beta: scalars[(i/3)%4], padC: i % 2, padA: i % 3}
				d := tc.data(rng)
				want, tol := gemmRef(tc, d)
				eachKernel(func(name string) {
					t.Run(name, func(t *testing.T) { checkAgainst(t, sgemmImpl{}, tc, d, want, tol) })
				})
			}
		}
	}
}

func TestSgemmRandom(t *testing.T) {
	withKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		impl := sgemmImpl{}
		n := 300
		if testing.Short() {
			n = 50
		}
		for range n {
			dim := func() int {
				if rng.IntN(4) == 0 {
					return 1 + rng.IntN(8)
				}
				return 1 + rng.IntN(300)
			}
			tc := gemmCase{tA: transposes[rng.IntN(2)], tB: transposes[rng.IntN(2)],
				m: dim(), n: dim(), k: dim(),
				alpha: float32(rng.NormFloat64()), beta: scalars[rng.IntN(4)],
				padA: rng.IntN(5), padB: rng.IntN(5), padC: rng.IntN(5)}
			if rng.IntN(8) == 0 {
				tc.tA = gblas.ConjTrans
			}
			checkGemm(t, impl, tc, rng)
		}
	})
}

// TestSgemmDeterministic: same inputs, same bits, whatever GOMAXPROCS.
func TestSgemmDeterministic(t *testing.T) {
	withKernels(t, testSgemmDeterministic)
}

func testSgemmDeterministic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	rng := rand.New(rand.NewPCG(7, 8))
	impl := sgemmImpl{}
	for _, s := range [][3]int{{96, 784, 512}, {784, 512, 96}, {300, 200, 700}, {1500, 128, 256}} {
		for _, tA := range transposes {
			for _, tB := range transposes {
				tc := gemmCase{tA: tA, tB: tB, m: s[0], n: s[1], k: s[2], alpha: 1, beta: 0.5}
				d := tc.data(rng)
				var first []float32
				for _, procs := range []int{1, 2, 3, 4, 7} {
					runtime.GOMAXPROCS(procs)
					c := append([]float32(nil), d.c...)
					impl.Sgemm(tA, tB, tc.m, tc.n, tc.k, tc.alpha, d.a, d.lda, d.b, d.ldb, tc.beta, c, d.ldc)
					if first == nil {
						first = c
						continue
					}
					for i := range c {
						if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
							t.Fatalf("%v: GOMAXPROCS=%d: c[%d] = %g, GOMAXPROCS=1 gave %g", tc, procs, i, c[i], first[i])
						}
					}
				}
			}
		}
	}
}

func TestSgemmKernel(t *testing.T) {
	t.Logf("kernel %s, packed path %v", kern.name, usePacked)
	want := "go"
	switch {
	case purego || runtime.GOARCH != "amd64":
	case cpu.X86.HasAVX512F:
		want = "avx512"
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		want = "avx2+fma"
	}
	if kern.name != want {
		t.Errorf("kernel %s selected, want %s on this CPU", kern.name, want)
	}
}

// TestSgemmPanics: invalid arguments panic as gonum's do.
func TestSgemmPanics(t *testing.T) {
	a := make([]float32, 100*100)
	for _, f := range []func(){
		func() { sgemmImpl{}.Sgemm('X', 'N', 10, 10, 10, 1, a, 10, a, 10, 0, a, 10) },
		func() { sgemmImpl{}.Sgemm('N', 'N', 10, 10, 10, 1, a, 9, a, 10, 0, a, 10) },
		func() { sgemmImpl{}.Sgemm('N', 'N', 100, 100, 100, 1, a[:9999], 100, a, 100, 0, a, 100) },
		func() { sgemmImpl{}.Sgemm('N', 'T', 100, 100, 100, 1, a, 100, a, 100, 0, a[:50], 100) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}

func BenchmarkSgemm(b *testing.B) {
	shapes := []struct {
		tA, tB  gblas.Transpose
		m, n, k int
	}{
		{'N', 'N', 96, 512, 784}, {'N', 'N', 96, 256, 512}, {'N', 'N', 96, 128, 256},
		{'T', 'N', 784, 512, 96}, {'T', 'N', 512, 256, 96}, {'T', 'N', 256, 128, 96},
		{'N', 'T', 96, 784, 512}, {'N', 'T', 96, 512, 256}, {'N', 'T', 96, 256, 128},
		{'N', 'N', 32, 512, 784}, {'N', 'N', 512, 512, 784}, {'N', 'N', 512, 128, 256},
	}
	impls := []struct {
		name string
		impl gblas.Float32
	}{{"ours", sgemmImpl{}}, {"gonum", gonum.Implementation{}}}
	for _, s := range shapes {
		tc := gemmCase{tA: s.tA, tB: s.tB, m: s.m, n: s.n, k: s.k, alpha: 1}
		d := tc.data(rand.New(rand.NewPCG(1, 1)))
		for _, im := range impls {
			b.Run(fmt.Sprintf("%c%c_%dx%dx%d/%s", s.tA, s.tB, s.m, s.n, s.k, im.name), func(b *testing.B) {
				for b.Loop() {
					im.impl.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, d.a, d.lda, d.b, d.ldb, 0, d.c, d.ldc)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkStepGemms runs the products of one training step (batch 32 ×
// anchor/positive/negative, 784→512→256→128) through the active BLAS, in order:
// forward x·W, then per layer dW = xᵀ·dz and (layers 2, 3) dx = dz·Wᵀ.
func BenchmarkStepGemms(b *testing.B) {
	b.Logf("blas=%s GOMAXPROCS=%d", Name(), runtime.GOMAXPROCS(0))
	stepGemms(b, Float32())
}

func stepGemms(b *testing.B, impl gblas.Float32) {
	const rows = 96
	dims := []int{784, 512, 256, 128}
	rng := rand.New(rand.NewPCG(9, 9))
	buf := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
		return s
	}
	var xs, ws, dws, dzs [][]float32
	for l := 0; l < 3; l++ {
		xs = append(xs, buf(rows*dims[l]))
		ws = append(ws, buf(dims[l]*dims[l+1]))
		dws = append(dws, buf(dims[l]*dims[l+1]))
		dzs = append(dzs, buf(rows*dims[l+1]))
	}
	y := buf(rows * 512)
	for b.Loop() {
		for l := 0; l < 3; l++ {
			in, out := dims[l], dims[l+1]
			impl.Sgemm('N', 'N', rows, out, in, 1, xs[l], in, ws[l], out, 1, y, out)
		}
		for l := 2; l >= 0; l-- {
			in, out := dims[l], dims[l+1]
			impl.Sgemm('T', 'N', in, out, rows, 1, xs[l], in, dzs[l], out, 0, dws[l], out)
			if l > 0 {
				impl.Sgemm('N', 'T', rows, in, out, 1, dzs[l], out, ws[l], out, 0, xs[l], in)
			}
		}
	}
	b.ReportMetric(248e-3*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
}

// TestSgemmConcurrent: concurrent callers (one gets the helper pool, the
// others plain goroutines) get the same bits as a lone caller.
func TestSgemmConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	impl := sgemmImpl{}
	tc := gemmCase{tA: 'N', tB: 'T', m: 96, n: 300, k: 200, alpha: 1, beta: 0}
	d := tc.data(rng)
	want := make([]float32, len(d.c))
	impl.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, d.a, d.lda, d.b, d.ldb, 0, want, d.ldc)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := make([]float32, len(d.c))
			for range 20 {
				impl.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, d.a, d.lda, d.b, d.ldb, 0, c, d.ldc)
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(want[i]) {
						errs <- fmt.Sprintf("c[%d] = %g, want %g", i, c[i], want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// BenchmarkStepGemmsKernels is BenchmarkStepGemms with this package's Sgemm,
// once per micro-kernel, panels packed and read in place.
func BenchmarkStepGemmsKernels(b *testing.B) {
	eachKernel(func(name string) {
		b.Run(name, func(b *testing.B) { stepGemms(b, sgemmImpl{}) })
	})
}
