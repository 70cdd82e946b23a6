package pipeline

import (
	"fmt"
	"strings"
)

// NoStage is the error for a stage name that where (a flag and its
// value, as "--only trian") gives and the pipeline lacks: it lists the
// stages and suggests the closest name.
func (p *Pipeline) NoStage(where, name string) error {
	return &Error{File: where, Msg: p.noStage(name)}
}

// topLevel says, for a name that is a block of the pipeline file and not
// a stage, where its settings are.
var topLevel = map[string]string{
	"gate":       "the quality gate's thresholds are the gate: block of %s, a list such as - {metric: roc_auc, min: 0.9} and - {metric: roc_auc, max_drop: 0.01}; edit them there (siamese run --no-gate skips the gate)",
	"models":     "models: {keep: N} is a block of %s; edit it there",
	"monitoring": "monitoring: {prometheus: FILE} is a block of %s; edit it there",
	"artifacts":  "artifacts: is a key of %s; edit it there, or pass --artifacts DIR",
	"executor":   "executor: is a key of %s; edit it there, or pass --executor",
	"slurm":      "slurm: is a block of %s; edit it there",
}

func (p *Pipeline) noStage(name string) string {
	names := make([]string, len(p.Stages))
	for i, s := range p.Stages {
		names[i] = s.Name
	}
	msg := fmt.Sprintf("no stage %q", name)
	if where, ok := topLevel[name]; ok {
		return msg + ": " + fmt.Sprintf(where, p.File)
	}
	if c := closest(name, names); c != "" {
		msg += fmt.Sprintf("; did you mean %q?", c)
	}
	return msg + " (stages: " + strings.Join(names, ", ") + ")"
}

// closest returns the choice nearest to s in edit distance, if it is near
// enough to be a slip: at most a third of its length, and at most 2 edits
// (a swap of two letters counts as one).
func closest(s string, choices []string) string {
	best, bestD := "", 0
	for _, c := range choices {
		d := distance(s, c)
		if limit := min(2, max(1, len(c)/3)); d <= limit && (best == "" || d < bestD) {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the optimal-string-alignment distance: insertions,
// deletions, substitutions and swaps of adjacent characters.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
