package runner

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// memShare is a Share that keeps, for each fingerprint, the root that
// made its outputs first.
type memShare struct {
	mu      sync.Mutex
	locks   map[string]*sync.Mutex
	entries map[string]*Shared
}

func newMemShare() *memShare {
	return &memShare{locks: map[string]*sync.Mutex{}, entries: map[string]*Shared{}}
}

func (m *memShare) Claim(ctx context.Context, stage, fp string) (*Shared, func(), error) {
	m.mu.Lock()
	l := m.locks[fp]
	if l == nil {
		l = &sync.Mutex{}
		m.locks[fp] = l
	}
	m.mu.Unlock()
	l.Lock()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.entries[fp], l.Unlock, nil
}

func (m *memShare) Keep(root string, rec *Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[rec.Fingerprint] = &Shared{Dir: root, Record: rec, From: root}
	return nil
}

// TestShareRunsEachFingerprintOnce runs three roots through one share:
// the second, with the same params, takes every stage's outputs; the
// third, with another param of sum, takes all but sum's. Each stage's
// code runs once per fingerprint, the outputs are the same bytes as a
// root that ran alone, and the records say where shared outputs came from.
func TestShareRunsEachFingerprintOnce(t *testing.T) {
	f := newFixture(t)
	share := newMemShare()
	roots := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b"), filepath.Join(t.TempDir(), "c")}
	sets := [][]string{nil, nil, {"sum.plus=5"}}
	want := []map[string]Outcome{
		{"gen": Ran, "double": Ran, "side": Ran, "sum": Ran},
		{"gen": Reused, "double": Reused, "side": Reused, "sum": Reused},
		{"gen": Reused, "double": Reused, "side": Reused, "sum": Ran},
	}
	for i, root := range roots {
		r := f.runner(sets[i]...)
		r.Pipeline.Root, r.Share = root, share
		rep, err := r.Run(context.Background(), Options{Jobs: 2})
		if err != nil {
			t.Fatalf("root %d: %v", i, err)
		}
		for _, res := range rep.Results {
			if res.Outcome != want[i][res.Stage] {
				t.Errorf("root %d: %s %s, want %s", i, res.Stage, res.Outcome, want[i][res.Stage])
			}
			rec, err := readRecord(root, res.Stage)
			if err != nil || rec == nil {
				t.Fatalf("root %d: %s: no record (%v)", i, res.Stage, err)
			}
			if shared := rec.SharedFrom != ""; shared != (res.Outcome == Reused) || shared && rec.SharedFrom != roots[0] {
				t.Errorf("root %d: %s's record says shared from %q", i, res.Stage, rec.SharedFrom)
			}
		}
		// A second run finds every stage up to date.
		r2 := f.runner(sets[i]...)
		r2.Pipeline.Root = root
		rep, err = r2.Run(context.Background(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range rep.Results {
			if res.Outcome != Cached {
				t.Errorf("root %d, again: %s %s, want cached", i, res.Stage, res.Outcome)
			}
		}
	}
	for name, n := range map[string]int32{"gen": 1, "double": 1, "side": 1, "sum": 2} {
		if got := f.stages[name].runs.Load(); got != n {
			t.Errorf("%s ran %d times, want %d", name, got, n)
		}
	}
	// The same bytes as a root that ran alone.
	alone := f.runner("sum.plus=5")
	alone.Pipeline.Root = filepath.Join(t.TempDir(), "alone")
	if _, err := alone.Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{"gen/gen.txt", "double/double.txt", "sum/sum.txt", "sum/model/w.txt"} {
		a, _ := os.ReadFile(filepath.Join(alone.Root(), out))
		c, err := os.ReadFile(filepath.Join(roots[2], out))
		if err != nil || string(a) != string(c) {
			t.Errorf("%s: %q shared, %q alone (%v)", out, c, a, err)
		}
	}
}

// TestShareChecksSources: outputs made from a file outside the root are
// not taken once the file changed; the stage runs again.
func TestShareChecksSources(t *testing.T) {
	f := newFixture(t)
	src := filepath.Join(t.TempDir(), "source.txt")
	if err := os.WriteFile(src, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	gen := f.stages["gen"]
	inner := gen.fn
	gen.fn = func(ctx context.Context, env *Env) error {
		if err := env.Track(src); err != nil {
			return err
		}
		return inner(ctx, env)
	}
	share := newMemShare()
	run := func(root string) Outcome {
		r := f.runner()
		r.Pipeline.Root, r.Share = filepath.Join(t.TempDir(), root), share
		rep, err := r.Run(context.Background(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return rep.Results[0].Outcome
	}
	if got := run("a"); got != Ran {
		t.Fatalf("gen %s in the first root", got)
	}
	if got := run("b"); got != Reused {
		t.Errorf("gen %s with its source unchanged, want shared", got)
	}
	if err := os.WriteFile(src, []byte("two!"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := run("c"); got != Ran {
		t.Errorf("gen %s after its source changed, want ran", got)
	}
}
