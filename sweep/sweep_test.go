package sweep

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/runner"
)

// fakeSweep is a 2 × 3 sweep whose Run records its calls; a variant with
// train.lr=bad fails.
func fakeSweep(home string, jobs int) (*Sweep, *sync.Map, *atomic.Int32) {
	var calls sync.Map
	var running, most atomic.Int32
	s := &Sweep{Name: "t", Home: home, Jobs: jobs,
		Axes: []Axis{{"train.lr", []string{"1", "bad"}}, {"train.seed", []string{"1", "2", "3"}}},
		Run: func(ctx context.Context, v *Variant, root string) (Result, error) {
			n := running.Add(1)
			defer running.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			c, _ := calls.LoadOrStore(v.ID, new(atomic.Int32))
			c.(*atomic.Int32).Add(1)
			select {
			case <-time.After(10 * time.Millisecond):
			case <-ctx.Done():
				return Result{}, ctx.Err()
			}
			if v.Value("train.lr") == "bad" {
				return Result{Run: "r-" + v.ID}, errors.New("stage train failed")
			}
			return Result{Run: "r-" + v.ID, Metrics: map[string]float64{"val_loss": 1}}, nil
		}}
	return s, &calls, &most
}

func TestExecuteRunsWhatIsNotDone(t *testing.T) {
	home := t.TempDir()
	s, calls, most := fakeSweep(home, 2)
	st, err := s.Execute(context.Background())
	var ferr *FailedError
	if !errors.As(err, &ferr) || len(ferr.Variants) != 3 {
		t.Fatalf("error %v, want 3 failed variants", err)
	}
	if m := most.Load(); m > 2 || m < 1 {
		t.Errorf("%d variants ran at once with --jobs 2", m)
	}
	done := 0
	for _, v := range st.Variants {
		if v.Status == Done {
			done++
		}
	}
	if done != 3 {
		t.Errorf("%d variants done, want 3 (a failed variant fails alone)", done)
	}
	// Again: only the failed variants run; the state on disk says so.
	s2, calls2, _ := fakeSweep(home, 2)
	if _, err := s2.Execute(context.Background()); !errors.As(err, &ferr) {
		t.Fatal(err)
	}
	n := 0
	calls2.Range(func(k, v any) bool { n++; return true })
	if n != 3 {
		t.Errorf("the second sweep ran %d variants, want the 3 that failed", n)
	}
	calls.Range(func(k, v any) bool {
		if c := v.(*atomic.Int32).Load(); c != 1 {
			t.Errorf("variant %s ran %d times in one sweep", k, c)
		}
		return true
	})
	back, err := ReadState(Path(home, "t"))
	if err != nil || len(back.Variants) != 6 || back.Variants[0].Run == "" || back.Variants[0].Metrics["val_loss"] != 1 {
		t.Fatalf("state %+v, %v", back, err)
	}
	// A variant done but no longer current runs again.
	s3, calls3, _ := fakeSweep(home, 1)
	s3.Current = func(ctx context.Context, v *Variant, root string) (bool, error) {
		return v.Value("train.seed") != "2", nil
	}
	s3.Execute(context.Background())
	n = 0
	calls3.Range(func(k, v any) bool { n++; return true })
	if n != 4 {
		t.Errorf("ran %d variants, want the 3 failed and the 1 stale", n)
	}
}

func TestExecuteRefusesASecondSweepAndStopsOnCancel(t *testing.T) {
	home := t.TempDir()
	s, _, _ := fakeSweep(home, 1)
	started := make(chan struct{})
	ctx, cancel := context.WithCancelCause(context.Background())
	inner := s.Run
	s.Run = func(ctx context.Context, v *Variant, root string) (Result, error) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return inner(ctx, v, root)
	}
	errc := make(chan error, 1)
	go func() { _, err := s.Execute(ctx); errc <- err }()
	<-started
	other, _, _ := fakeSweep(home, 1)
	var busy *BusyError
	if _, err := other.Execute(context.Background()); !errors.As(err, &busy) {
		t.Errorf("a second sweep of the same name: %v, want BusyError", err)
	}
	cancel(errors.New("SIGTERM"))
	err := <-errc
	var ie *runner.InterruptedError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "6 variant(s) will run on the next sweep t") {
		t.Fatalf("after cancel: %v", err)
	}
	st, _ := ReadState(Path(home, "t"))
	if st.Variants[0].Status != Interrupted || st.Variants[1].Status != Pending {
		t.Errorf("statuses %s %s, want interrupted, pending", st.Variants[0].Status, st.Variants[1].Status)
	}
}
