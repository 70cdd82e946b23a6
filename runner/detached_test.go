package runner

import (
	"context"
	"errors"
	"testing"
	"time"
)

// ended is a scripted scheduler whose jobs ended as told: Ended sets each
// task's outcome from outcomes, by stage.
type ended struct {
	scripted
	outcomes map[string]Outcome
}

func (e *ended) Ended(ctx context.Context, ts []*Task) error {
	for _, t := range ts {
		t.Result.Outcome = e.outcomes[t.Stage.Name]
		if t.Result.Outcome == Failed {
			t.Result.Err = errors.New("job " + t.Job + " FAILED")
		}
	}
	return nil
}

// RecordDetached, the last job of a detached run, rebuilds the run's
// report from the lease and from how each job ended, hands it to finish,
// and gives the root back, once the submitter has let go of the lock; a
// record job the lease does not name records nothing.
func TestRecordDetached(t *testing.T) {
	f := newFixture(t)
	s := &ended{outcomes: map[string]Outcome{"gen": Ran, "double": Failed}}
	r := f.runner()
	r.Schedulers = map[string]Scheduler{s.Name(): s}
	start := time.Now().Add(-time.Minute).Truncate(time.Second)
	l := &Lease{Scheduler: s.Name(), Start: start, Detached: true, Jobs: []string{"1", "2", "3"}, Stages: []LeaseResult{
		{Stage: "gen", Outcome: Cancelled, Reason: "never run", Job: "1"},
		{Stage: "double", Outcome: Cancelled, Reason: "never run", Job: "2"},
		{Stage: "side", Outcome: Cached},
	}}
	if err := writeLease(f.root, l); err != nil {
		t.Fatal(err)
	}

	// A job the lease does not name waits for a lease that names it.
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	err := r.RecordDetached(ctx, "9", func(*Report, error) error {
		t.Error("a record job the lease does not name recorded the run")
		return nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("record job 9: %v, want it to wait until its context ends", err)
	}
	if got, _ := ReadLease(f.root); got == nil {
		t.Fatal("record job 9 removed the lease")
	}

	// The submitter may still hold the lock for a moment: the record job
	// waits for it.
	held, err := acquireLock(f.root)
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(700*time.Millisecond, held.release)
	var rep *Report
	var runErr error
	err = r.RecordDetached(context.Background(), "3", func(r *Report, err error) error {
		rep, runErr = r, err
		return nil
	})
	var se *StageError
	if !errors.As(err, &se) || se.Stage != "double" || !errors.As(runErr, &se) {
		t.Fatalf("record job 3: %v (finish got %v), want double's failure", err, runErr)
	}
	if rep == nil || !rep.Start.Equal(start) || len(rep.Results) != 3 {
		t.Fatalf("report %+v", rep)
	}
	for i, want := range []Outcome{Ran, Failed, Cached} {
		if rep.Results[i].Outcome != want {
			t.Errorf("%s: %s, want %s", rep.Results[i].Stage, rep.Results[i].Outcome, want)
		}
	}
	if got, _ := ReadLease(f.root); got != nil {
		t.Errorf("the lease is left after the run was recorded: %+v", got)
	}
	lk, err := acquireLock(f.root)
	if err != nil {
		t.Fatalf("the lock is left held: %v", err)
	}
	lk.release()
}
