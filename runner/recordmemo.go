package runner

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// A run reads a stage's record several times (the damaged-record check,
// the plan, the stage's own run, the run's summary), and a record of a
// folder dataset lists every file of it. loadRecord parses each record
// file once: it keeps the parsed record with the file's identity (device
// and inode, size, mtime) and hands out copies while the file stays the
// same. Records are replaced by renaming a new file over them
// (writeRecord), so a rewritten record is another file, whoever wrote it.

// memo is the parsed records, by path.
var memo struct {
	sync.Mutex
	m map[string]memoized
}

type memoized struct {
	info os.FileInfo
	rec  *Record
}

// damagedRecord is the error of a record file that cannot be used: it
// cannot be parsed, or a list it names is missing, unreadable or not the
// one it names. It does not unwrap to its cause: a missing list is a
// damaged record, not a missing one.
type damagedRecord struct{ err error }

func (e *damagedRecord) Error() string { return "damaged record: " + e.err.Error() }

// loadRecord returns the record in file name: a copy the caller may
// change. The error is a *damagedRecord if it cannot be parsed.
func loadRecord(name string) (*Record, error) {
	info, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	memo.Lock()
	m, ok := memo.m[name]
	memo.Unlock()
	if ok && os.SameFile(m.info, info) && m.info.Size() == info.Size() && m.info.ModTime().Equal(info.ModTime()) {
		return m.rec.clone(), nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, &damagedRecord{err}
	}
	if err := unpackLists(filepath.Dir(name), &r); err != nil {
		return nil, &damagedRecord{err}
	}
	keep(name, info, r.clone())
	return &r, nil
}

// keep remembers rec as the record in file name, whose identity is info.
func keep(name string, info os.FileInfo, rec *Record) {
	memo.Lock()
	defer memo.Unlock()
	if memo.m == nil {
		memo.m = map[string]memoized{}
	}
	memo.m[name] = memoized{info: info, rec: rec}
}

// clone copies r deeply enough that changing the copy's files (as the
// planner replaces those of its outputs and sources that were touched)
// leaves r as it is. A directory's Files are shared: no code changes one
// of them in place (a changed directory is described anew), and a folder
// of a hundred thousand files is not copied at every read. Params are not
// changed by anyone and stay shared too.
func (r *Record) clone() *Record {
	c := *r
	c.Deps, c.Outs, c.Sources = slices.Clone(r.Deps), slices.Clone(r.Outs), slices.Clone(r.Sources)
	return &c
}

// remember keeps the record writeRecord has just written to file name:
// data, whose lists are those of r. It is kept as it reads back (params
// as JSON numbers, say), not as r.
func remember(name string, data []byte, r *Record) {
	info, err := os.Stat(name)
	if err != nil {
		return
	}
	var back Record
	if json.Unmarshal(data, &back) != nil {
		return
	}
	for k, files := range [][]File{back.Deps, back.Outs, back.Sources} {
		from := [][]File{r.Deps, r.Outs, r.Sources}[k]
		for i := range files {
			if files[i].FilesIn != "" {
				files[i].Files, files[i].FilesIn = from[i].Files, ""
			}
		}
	}
	keep(name, info, back.clone())
}
