package runner

import "testing"

func TestRecorded(t *testing.T) {
	f := newFixture(t)
	if rec, err := f.runner().Recorded("gen"); rec != nil || err != nil {
		t.Fatalf("before any run: %v, %v", rec, err)
	}
	if _, err := f.run(Options{}, "gen.n=7"); err != nil {
		t.Fatal(err)
	}
	// The record says what made the outputs, whatever the file says now.
	rec, err := f.runner().Recorded("gen")
	if err != nil || rec == nil || rec.Stage != "gen" || rec.Params["n"] != 7.0 {
		t.Fatalf("after a run with n=7: %+v, %v", rec, err)
	}
}
