package nprand

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

// Known values, hard-coded from numpy 1.24.2 / sklearn 1.2.1, so the package
// is checked even where Python is unavailable.
func TestKnownValues(t *testing.T) {
	tests := []struct {
		name string
		got  func() any
		want any
	}{
		{"Uint32 seed 0", func() any { return draws(New(0), 5, func(r *RandomState) any { return r.Uint32() }) },
			[]any{uint32(2357136044), uint32(2546248239), uint32(3071714933), uint32(3626093760), uint32(2588848963)}},
		{"Uint32 seed 2^32-1", func() any { return draws(New(math.MaxUint32), 3, func(r *RandomState) any { return r.Uint32() }) },
			[]any{uint32(419326371), uint32(479346978), uint32(3918654476)}},
		{"Choice(7) seed 0", func() any { return draws(New(0), 10, func(r *RandomState) any { return r.Choice(7) }) },
			[]any{4, 5, 0, 3, 3, 3, 1, 3, 5, 2}},
		{"Choice(70000) seed 42", func() any { return draws(New(42), 5, func(r *RandomState) any { return r.Choice(70000) }) },
			[]any{15795, 860, 54886, 6265, 37194}},
		{"Choice(2^33) seed 0 (64-bit path)", func() any { return draws(New(0), 3, func(r *RandomState) any { return r.Choice(1 << 33) }) },
			[]any{2546248239, 7921061056, 7979815675}},
		{"Float64 seed 42", func() any { return draws(New(42), 3, func(r *RandomState) any { return r.Float64() }) },
			[]any{0.3745401188473625, 0.9507143064099162, 0.7319939418114051}},
		{"Permutation(10) seed 0", func() any { return New(0).Permutation(10) },
			[]int{2, 8, 4, 9, 1, 6, 7, 3, 0, 5}},
		{"TrainTestSplit(20, 0.25, 42)", func() any {
			tr, te, err := TrainTestSplit(20, 0.25, 42)
			if err != nil {
				return err
			}
			return [2][]int{tr, te}
		}, [2][]int{{5, 11, 3, 18, 16, 13, 2, 9, 19, 4, 12, 7, 10, 14, 6}, {0, 17, 15, 1, 8}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.got(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func draws(r *RandomState, n int, f func(*RandomState) any) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = f(r)
	}
	return out
}

func TestChoiceEqualsIntn(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 1000, 70000, 1 << 32, 1<<32 + 1, 1 << 40} {
		a, b := New(9), New(9)
		for i := 0; i < 200; i++ {
			x, y := a.Choice(n), b.Intn(n)
			if x != y || x < 0 || x >= n {
				t.Fatalf("n=%d draw %d: Choice=%d Intn=%d", n, i, x, y)
			}
		}
	}
}

func TestChoiceOneDrawsNothing(t *testing.T) {
	r := New(5)
	before := r.State()
	for i := 0; i < 10; i++ {
		if v := r.Choice(1); v != 0 {
			t.Fatalf("Choice(1) = %d", v)
		}
	}
	if r.State() != before {
		t.Fatal("Choice(1) consumed draws; numpy's rng == 0 case draws nothing")
	}
}

func TestPanicsOnNonPositive(t *testing.T) {
	for name, f := range map[string]func(){
		"Choice(0)": func() { New(0).Choice(0) },
		"Intn(-1)":  func() { New(0).Intn(-1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}

func TestPermutationEdge(t *testing.T) {
	for _, n := range []int{-3, 0} {
		r := New(1)
		before := r.State()
		if p := r.Permutation(n); len(p) != 0 {
			t.Errorf("Permutation(%d) = %v, want empty", n, p)
		}
		if r.State() != before {
			t.Errorf("Permutation(%d) consumed draws", n)
		}
	}
	p := New(3).Permutation(1000)
	seen := make([]bool, len(p))
	for _, v := range p {
		if seen[v] {
			t.Fatalf("duplicate %d", v)
		}
		seen[v] = true
	}
}

func TestStateRoundTrip(t *testing.T) {
	r := New(12345)
	for i := 0; i < 1000; i++ { // cross a key regeneration
		r.Uint32()
	}
	st := r.State()
	buf, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var st2 State
	if err := json.Unmarshal(buf, &st2); err != nil {
		t.Fatal(err)
	}
	want := make([]int, 0, 3000)
	for i := 0; i < 1000; i++ {
		want = append(want, r.Choice(70000), int(r.Uint32()), r.Choice(3))
	}
	r2 := New(0)
	if err := r2.SetState(st2); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		got := []int{r2.Choice(70000), int(r2.Uint32()), r2.Choice(3)}
		if !reflect.DeepEqual(got, want[3*i:3*i+3]) {
			t.Fatalf("draw %d: got %v want %v", i, got, want[3*i:3*i+3])
		}
	}
	for _, pos := range []int{-1, 625} {
		bad := st
		bad.Pos = pos
		if err := r2.SetState(bad); err == nil {
			t.Errorf("SetState accepted pos %d", pos)
		}
	}
}

func TestSplitSizesErrors(t *testing.T) {
	tests := []struct {
		n      int
		ts     float64
		wantOK bool
	}{
		{20, 0.05, true},
		{2, 0.5, true},
		{20, 0, false},
		{20, 1, false},
		{20, -0.1, false},
		{20, 1.5, false},
		{20, math.NaN(), false},
		{1, 0.5, false}, // n_test = 1, n_train = 0
		{0, 0.5, false},
		{10, 0.95, false}, // ceil(9.5) = 10 -> empty train
	}
	for _, tc := range tests {
		_, _, err := TrainTestSplit(tc.n, tc.ts, 42)
		if (err == nil) != tc.wantOK {
			t.Errorf("TrainTestSplit(%d, %v): err = %v, wantOK %v", tc.n, tc.ts, err, tc.wantOK)
		}
	}
}

func BenchmarkChoice70000(b *testing.B) {
	r := New(42)
	s := 0
	for b.Loop() {
		s += r.Choice(70000)
	}
	_ = s
}

func BenchmarkPermutation30000(b *testing.B) {
	r := New(42)
	for b.Loop() {
		r.Permutation(30000)
	}
}
