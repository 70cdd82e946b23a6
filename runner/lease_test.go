package runner

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// scripted is a Scheduler whose jobs exist only in what it is told to
// answer: Active returns active (or activeErr) whatever it is asked, and
// Wait returns waitErr, as a Slurm whose squeue is out or whose scancel
// failed would.
type scripted struct {
	mu        sync.Mutex
	active    []string
	activeErr error
	waitErr   error
	submitted []string
}

func (s *scripted) Name() string { return "scripted" }

func (s *scripted) Execute(ctx context.Context, ts []*Task) error {
	return errors.New("a scheduler's tasks are submitted, not executed")
}

func (s *scripted) Submit(ctx context.Context, ts []*Task, record bool, lease func([]string) error) ([]string, error) {
	var jobs []string
	for i, t := range ts {
		t.Job = strconv.Itoa(i + 1)
		jobs = append(jobs, t.Job)
		if err := lease(jobs); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	s.submitted = slices.Clone(jobs)
	s.mu.Unlock()
	return jobs, nil
}

func (s *scripted) Wait(ctx context.Context, ts []*Task) error { return s.waitErr }

func (s *scripted) Active(ctx context.Context, jobs []string) ([]string, error) {
	return s.active, s.activeErr
}

func (s *scripted) Cancel(ctx context.Context, jobs []string) error { return nil }

func (s *scripted) Ended(ctx context.Context, ts []*Task) error { return nil }

// A lease holds the root while any one of its jobs is pending or running,
// and while it cannot be told whether they are; once none is, the next
// run removes it and goes on.
func TestLeaseHoldsTheRootWhileAnyJobIsLive(t *testing.T) {
	squeueDown := errors.New("squeue: Unable to contact slurm controller")
	tests := []struct {
		name      string
		active    []string
		activeErr error
		refused   bool
	}{
		{"one job of three live", []string{"3"}, nil, true},
		{"every job live", []string{"1", "2", "3"}, nil, true},
		{"the scheduler does not answer", nil, squeueDown, true},
		{"every job ended", nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			s := &scripted{active: tt.active, activeErr: tt.activeErr}
			r := f.runner()
			r.Schedulers = map[string]Scheduler{s.Name(): s}
			if err := writeLease(f.root, &Lease{Scheduler: s.Name(), Start: time.Now(), Jobs: []string{"1", "2", "3"}}); err != nil {
				t.Fatal(err)
			}
			_, err := r.Run(context.Background(), Options{})
			l, rerr := ReadLease(f.root)
			if rerr != nil {
				t.Fatal(rerr)
			}
			var le *LeaseError
			if !tt.refused {
				if err != nil || l != nil {
					t.Fatalf("run: %v, lease left %+v; want the run to go on and the lease gone", err, l)
				}
				return
			}
			if !errors.As(err, &le) || l == nil || !slices.Equal(l.Jobs, []string{"1", "2", "3"}) {
				t.Fatalf("run: %v, lease %+v; want a LeaseError and the lease kept", err, l)
			}
			if tt.activeErr != nil && !errors.Is(le.Err, squeueDown) {
				t.Errorf("the LeaseError hides why the jobs' state is unknown: %v", err)
			}
			if tt.activeErr == nil && (le.Err != nil || !slices.Equal(le.Jobs, tt.active)) {
				t.Errorf("the LeaseError names jobs %v (%v), want the live ones %v", le.Jobs, le.Err, tt.active)
			}
			for name, st := range f.stages {
				if st.runs.Load() != 0 {
					t.Errorf("stage %s ran on a leased root", name)
				}
			}
		})
	}
}

// A run whose Wait ended with an error gives the root back only if its
// jobs are known to have ended: where squeue is out, or scancel failed
// and a job still runs, the lease stays to hold the root for them.
func TestLeaseKeptAfterWaitWhileJobsMayRun(t *testing.T) {
	waitErr := errors.New("cancel jobs 1,2,3: scancel: Unable to contact slurm controller")
	squeueDown := errors.New("squeue: Unable to contact slurm controller")
	tests := []struct {
		name      string
		active    []string
		activeErr error
		kept      bool
	}{
		{"squeue out", nil, squeueDown, true},
		{"a job still runs", []string{"2"}, nil, true},
		{"every job ended", nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			s := &scripted{waitErr: waitErr}
			r := f.runner()
			r.Schedulers = map[string]Scheduler{s.Name(): s}
			ctx := context.Background()
			_, err := r.Run(ctx, Options{Executor: &answerAfterWait{s, tt.active, tt.activeErr}})
			if !errors.Is(err, waitErr) {
				t.Fatalf("run: %v, want Wait's error", err)
			}
			l, rerr := ReadLease(f.root)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if kept := l != nil; kept != tt.kept {
				t.Fatalf("lease kept %v (%+v), want %v", kept, l, tt.kept)
			}
			if tt.kept && !slices.Equal(l.Jobs, s.submitted) {
				t.Errorf("the lease names %v, want the run's jobs %v", l.Jobs, s.submitted)
			}
		})
	}
}

// answerAfterWait answers Active with nothing live until Wait has
// returned (so the run's own lease check lets it start), then as told.
type answerAfterWait struct {
	*scripted
	active    []string
	activeErr error
}

func (a *answerAfterWait) Wait(ctx context.Context, ts []*Task) error {
	err := a.scripted.Wait(ctx, ts)
	a.scripted.mu.Lock()
	a.scripted.active, a.scripted.activeErr = a.active, a.activeErr
	a.scripted.mu.Unlock()
	return err
}
