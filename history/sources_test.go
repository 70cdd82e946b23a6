package history

import (
	"reflect"
	"testing"
)

func TestDiffNamesNewData(t *testing.T) {
	a := &Run{ID: "a", Stages: []Stage{{Name: "ingest", Outcome: "cached"}}}
	b := &Run{ID: "b", Stages: []Stage{
		{Name: "ingest", Outcome: "ran", Reason: "source added: images/gear/100.png (and 9 more)"},
		{Name: "triplets", Outcome: "ran", Reason: "upstream stage ingest runs"},
		{Name: "train", Outcome: "failed", Reason: "source changed: x"},
	}}
	want := []Change{{Kind: "data", Key: "ingest", New: "source added: images/gear/100.png (and 9 more)"}}
	if got := Diff(a, b); !reflect.DeepEqual(got, want) {
		t.Errorf("Diff = %+v, want %+v", got, want)
	}
	if got := Diff(b, b); len(got) != 0 {
		t.Errorf("Diff of a run with itself = %+v", got)
	}
	if got := Diff(b, a); len(got) != 0 {
		t.Errorf("Diff towards a run that read no new data = %+v", got)
	}
}
