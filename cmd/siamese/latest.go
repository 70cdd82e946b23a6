package main

import (
	"fmt"
	"strings"

	"github.com/siamese-pipeline/siamese/history"
	"github.com/siamese-pipeline/siamese/runner"
)

// mixedError says that the outputs --model latest would read come from
// different runs: a stage that makes part of the model was rerun and a
// stage that read it was not.
type mixedError struct{ reasons []string }

func (e *mixedError) Error() string {
	return "--model latest would mix two models: " + strings.Join(e.reasons, "; ") +
		` (siamese run brings them back together; --model current scores with the promoted model; --allow-mixed scores anyway)`
}

// checkLatest checks that the stages that make the latest model made
// their parts from each other's outputs as they are now: for each stage's
// record, every input another of these stages wrote must have the hash
// that stage's record gives it. It returns the newest of the stages'
// records, which names the run that finished the model.
func checkLatest(r *runner.Runner, sp *servingParts) (*runner.Record, error) {
	recs := map[string]*runner.Record{}
	var newest *runner.Record
	for _, s := range sp.stages {
		if recs[s.Name] != nil {
			continue
		}
		rec, err := r.Recorded(s.Name)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			return nil, fmt.Errorf("--model latest: stage %s has not run (siamese run makes the model)", s.Name)
		}
		recs[s.Name] = rec
		if newest == nil || rec.End.After(newest.End) {
			newest = rec
		}
	}
	// Who wrote each out now on disk, and its hash then.
	type made struct {
		stage string
		hash  string
		rec   *runner.Record
	}
	outs := map[string]made{}
	for name, rec := range recs {
		for _, o := range rec.Outs {
			outs[o.Path] = made{name, o.Hash, rec}
		}
	}
	var reasons []string
	seen := map[string]bool{}
	for _, s := range sp.stages {
		rec := recs[s.Name]
		if seen[s.Name] {
			continue
		}
		seen[s.Name] = true
		for _, d := range rec.Deps {
			m, ok := outs[d.Path]
			if !ok || m.stage == s.Name || m.hash == d.Hash {
				continue
			}
			reasons = append(reasons, fmt.Sprintf("%s (%s) read %s, which %s has rewritten since (%s)",
				s.Name, stamp(rec), d.Path, m.stage, stamp(m.rec)))
		}
	}
	if len(reasons) > 0 {
		return newest, &mixedError{reasons}
	}
	return newest, nil
}

// runOf returns the id of the recorded run during which a stage's record
// was made, or "" when none was recorded.
func runOf(runs []*history.Run, rec *runner.Record) string {
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		if !rec.Start.Before(r.Start) && !rec.End.After(r.End) {
			return r.ID
		}
	}
	return ""
}

func stamp(rec *runner.Record) string { return rec.End.UTC().Format("2006-01-02 15:04:05 UTC") }
