package pipeline

import (
	"strings"
	"testing"
)

func TestClosest(t *testing.T) {
	stages := []string{"ingest", "triplets", "pictures", "flatten", "split", "train", "evaluate"}
	for _, tt := range []struct{ in, want string }{
		{"trian", "train"},      // a swap
		{"evalute", "evaluate"}, // a deletion
		{"tripplets", "triplets"},
		{"splt", "split"},
		{"ingset", "ingest"},
		{"train", "train"},
		{"xyz", ""},
		{"gate", ""},
		{"t", ""},
	} {
		if got := closest(tt.in, stages); got != tt.want {
			t.Errorf("closest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNoStage(t *testing.T) {
	p := &Pipeline{File: "p.yaml", Stages: []*Stage{{Name: "ingest"}, {Name: "train"}}}
	for _, tt := range []struct{ name, want string }{
		{"trian", `--only trian: no stage "trian"; did you mean "train"? (stages: ingest, train)`},
		{"zzz", `--only zzz: no stage "zzz" (stages: ingest, train)`},
		{"gate", `--only gate: no stage "gate": the quality gate's thresholds are the gate: block of p.yaml`},
	} {
		if got := p.NoStage("--only "+tt.name, tt.name).Error(); !strings.HasPrefix(got, tt.want) {
			t.Errorf("NoStage(%q) = %q, want it to start %q", tt.name, got, tt.want)
		}
	}
}
