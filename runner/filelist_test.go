package runner

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestListRoundTrip packs lists of files and reads them back alike.
func TestListRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		files []File
	}{
		{"empty", []File{}},
		{"xxh3 hashes", []File{
			{Path: "a/b.png", Size: 12, MTime: 1796668854812655345, Hash: "xxh3-128:79e08422c3c41866e9e571a58d2f85ea"},
			{Path: "a/c.png", Size: 0, MTime: -1, Hash: "xxh3-128:00000000000000000000000000000000"},
		}},
		{"other hashes, kept as they are", []File{
			{Path: "x", Size: 1, Hash: "xxh3-128:79E08422C3C41866E9E571A58D2F85EA"}, // upper case
			{Path: "y", Size: 2, Hash: "sha256:abc"},
			{Path: "z", Size: 3, Hash: ""},
			{Path: "ünïcode/日本.png", Size: -5, Hash: "xxh3-128:79e0"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := appendList([]byte(listMagic), tt.files)
			got, err := readList(data)
			if err != nil || !reflect.DeepEqual(got, tt.files) {
				t.Fatalf("read back %+v, %v; want %+v", got, err, tt.files)
			}
			for cut := len(listMagic); cut < len(data); cut++ {
				if _, err := readList(data[:cut]); err == nil {
					t.Fatalf("a list cut at %d of %d bytes was read", cut, len(data))
				}
			}
		})
	}
}

// FuzzReadList reads arbitrary bytes as a list file: an error or a list
// that packs back to the same bytes, never a panic.
func FuzzReadList(f *testing.F) {
	f.Add(appendList([]byte(listMagic), []File{{Path: "a", Size: 1, Hash: "xxh3-128:79e08422c3c41866e9e571a58d2f85ea"}}))
	f.Add(appendList([]byte(listMagic), []File{{Path: "b", Size: -1, MTime: 7, Hash: "other"}}))
	f.Add([]byte(listMagic + "\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		files, err := readList(b)
		if err != nil {
			return
		}
		if again := appendList([]byte(listMagic), files); !bytes.Equal(again, b) {
			// Varints have one shortest form only: what was read packs
			// back alike, or the reader accepted a longer form.
			if back, err := readList(again); err != nil || !reflect.DeepEqual(back, files) {
				t.Fatalf("packed back differently: %v", err)
			}
		}
	})
}

// TestLargeDirectoryRecord tracks a directory of more files than a record
// lists itself: the record names a list file beside it, reads back the
// same files, notices a change in one, keeps one list file per stage, and
// a list file missing or damaged makes the record damaged (the stage
// reruns).
func TestLargeDirectoryRecord(t *testing.T) {
	f := newSourceFixture(t)
	for i := range packAbove + 10 {
		f.write(fmt.Sprintf("images/bag/%04d.png", i), fmt.Sprint(i))
	}
	if _, err := f.run(Options{}); err != nil {
		t.Fatal(err)
	}
	stages := filepath.Join(f.root, internalDir, "stages")
	lists := func() []string {
		l, _ := filepath.Glob(filepath.Join(stages, "gen.*.files"))
		return l
	}
	raw, _ := os.ReadFile(filepath.Join(stages, "gen.json"))
	if len(lists()) != 1 || !bytes.Contains(raw, []byte(`"files_in": "`+filepath.Base(lists()[0])+`"`)) ||
		bytes.Contains(raw, []byte("0100.png")) {
		t.Fatalf("lists %v; record:\n%s", lists(), raw)
	}
	want, err := describeSource(f.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	forgetRecords()
	rec, err := readRecord(f.root, "gen")
	if err != nil || rec == nil || !reflect.DeepEqual(rec.Sources[0], want) {
		t.Fatalf("record read back: %v, %v", rec, err)
	}
	if r := f.reasons()["gen"]; r != "" {
		t.Fatalf("unchanged, gen would run: %q", r)
	}

	f.write("images/bag/0100.png", "changed")
	if r := f.reasons()["gen"]; r != "source changed: images/bag/0100.png" {
		t.Fatalf("after a change: %q", r)
	}
	if got, err := f.run(Options{}); err != nil || !strings.Contains(got, "gen=ran") {
		t.Fatalf("after a change: %s, %v", got, err)
	}
	if l := lists(); len(l) != 1 {
		t.Fatalf("list files after a second run: %v", l)
	}

	damage := map[string]func(path string){
		"missing": func(p string) { os.Remove(p) },
		"a byte flipped": func(p string) {
			data, _ := os.ReadFile(p)
			data[len(data)/2] ^= 1
			os.WriteFile(p, data, 0o644)
		},
		"truncated": func(p string) { os.Truncate(p, 40) },
	}
	for name, hurt := range damage {
		t.Run(name, func(t *testing.T) {
			if _, err := f.run(Options{}); err != nil {
				t.Fatal(err)
			}
			hurt(lists()[0])
			forgetRecords()
			if r := f.reasons()["gen"]; r != "never run" {
				t.Errorf("with its list file %s, gen's reason is %q", name, r)
			}
			var log bytes.Buffer
			r := f.runner()
			r.Log = slog.New(slog.NewTextHandler(&log, nil))
			if rep, err := r.Run(context.Background(), Options{}); err != nil || rep.Results[0].Outcome != Ran {
				t.Fatalf("after the damage: %+v, %v", rep, err)
			}
			if !strings.Contains(log.String(), "stage record is damaged") {
				t.Errorf("no warning of the damaged record:\n%s", log.String())
			}
			forgetRecords() // as the next process reads it
			if r := f.reasons()["gen"]; r != "" {
				t.Errorf("after the rerun, gen would run again: %q", r)
			}
		})
	}
}

// TestRecordsReadOnce reads a record that another process replaced: the
// new one, not the one kept from before.
func TestRecordsReadOnce(t *testing.T) {
	f := newFixture(t)
	if _, err := f.run(Options{}, "gen.n=7"); err != nil {
		t.Fatal(err)
	}
	first, err := readRecord(f.root, "gen")
	if err != nil || first == nil {
		t.Fatal(err)
	}
	first.Outs[0].Hash = "changed by the caller" // a copy: the kept record stays as it was
	again, _ := readRecord(f.root, "gen")
	if again.Outs[0].Hash == first.Outs[0].Hash {
		t.Fatal("a record's reader changed the record kept for later readers")
	}
	// Another process writes a record the way writeRecord does: a new
	// file renamed over the old one.
	name := recordPath(f.root, "gen")
	data, _ := os.ReadFile(name)
	data = bytes.Replace(data, []byte(`"n": 7`), []byte(`"n": 8`), 1)
	if err := os.WriteFile(name+".new", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(name+".new", name); err != nil {
		t.Fatal(err)
	}
	if rec, _ := readRecord(f.root, "gen"); rec == nil || rec.Params["n"] != 8.0 {
		t.Fatalf("after another process replaced it: %+v", rec)
	}
}

// forgetRecords empties the records kept in memory: the next reads are
// from disk.
func forgetRecords() {
	memo.Lock()
	memo.m = nil
	memo.Unlock()
}
