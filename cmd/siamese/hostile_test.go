package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
)

// npyFile is a .npy file with the header dict written as given.
func npyFile(dict string, data []byte) []byte {
	d := dict + strings.Repeat(" ", 63-(10+len(dict))%64) + "\n"
	b := append([]byte("\x93NUMPY"), 1, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(d)))
	return append(append(b, d...), data...)
}

// idx is an IDX file of unsigned bytes.
func idx(magic uint32, dims []uint32, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// put replaces a file (removing it first, so a copy sharing its inode
// would be untouched) and creates its directory.
func put(t *testing.T, path string, data []byte) {
	t.Helper()
	os.Remove(path)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHostileInputs runs the real program on mistaken and hostile inputs:
// params, pipeline files, command lines, .npy, IDX and Arrow files,
// records, history, checkpoints and the lock. Each ends with its exit code
// and its message (paths under the test's directory written $DIR), and
// none panics.
func TestHostileInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the program some forty times on a small pipeline")
	}
	src := syntheticSource(t)
	base := filepath.Join(t.TempDir(), "base")
	if code, out, errOut := runProgram(t, ".", smallRun(src, base)...); code != 0 {
		t.Fatalf("the fixture's run: exit %d\n%s%s", code, out, errOut)
	}
	pipelineYAML, err := os.ReadFile(repoFile("pipeline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// lineOf is the line of the repository's pipeline.yaml that text
	// starts on (1-based), as an error names it.
	lineOf := func(text string) string {
		i := strings.Index(string(pipelineYAML), text)
		if i < 0 {
			t.Fatalf("pipeline.yaml lacks %q", text)
		}
		return strconv.Itoa(strings.Count(string(pipelineYAML[:i]), "\n") + 1)
	}
	good := npyFile("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 3), }", make([]byte, 24))
	xTrain := "split/train_rows.npy"
	rowPast := func(t *testing.T, root string) {
		rows, shape, err := artifacts.ReadNPY[int64](filepath.Join(root, "out", xTrain))
		if err != nil {
			t.Fatal(err)
		}
		rows[5] = 1 << 40
		os.Remove(filepath.Join(root, "out", xTrain))
		if err := artifacts.WriteNPY(filepath.Join(root, "out", xTrain), rows, shape...); err != nil {
			t.Fatal(err)
		}
	}
	file := func(rel string, data []byte) func(*testing.T, string) {
		return func(t *testing.T, root string) { put(t, filepath.Join(root, rel), data) }
	}
	yaml := func(from, to string) func(*testing.T, string) {
		return func(t *testing.T, dir string) {
			if !strings.Contains(string(pipelineYAML), from) {
				t.Fatalf("pipeline.yaml lacks %q", from)
			}
			put(t, filepath.Join(dir, "pipeline.yaml"), []byte(strings.Replace(string(pipelineYAML), from, to, 1)))
		}
	}
	const R = "--artifacts=$DIR/out" // the case's artifacts root
	cases := []struct {
		name    string
		fixture bool                            // start from the finished small run, else from nothing
		prep    func(t *testing.T, root string) // root is the case's directory
		args    []string                        // after -f $DIR/pipeline.yaml (or the repository's) and R
		code    int
		want    string // in stderr, with the case's directory written $DIR
	}{
		// Params, on the command line and in the file.
		{"batch 0", false, nil, []string{"run", "--set", "train.batch=0"}, 2,
			"siamese: --set train.batch=0: 0 is out of range [1, 65536]"},
		{"batch 0, dry run", false, nil, []string{"run", "--dry-run", "--set", "train.batch=0"}, 2,
			"siamese: --set train.batch=0: 0 is out of range [1, 65536]"},
		{"negative lr", false, nil, []string{"run", "--dry-run", "--set", "train.lr=-1"}, 2,
			"siamese: --set train.lr=-1: -1 is out of range (0, 1]"},
		{"test_size 1.5", false, nil, []string{"run", "--set", "split.test_size=1.5"}, 2,
			"siamese: --set split.test_size=1.5: 1.5 is out of range (0, 1)"},
		{"negative per_class", false, nil, []string{"run", "--set", "triplets.per_class=-5"}, 2,
			"siamese: --set triplets.per_class=-5: -5 is out of range [1, )"},
		{"no epochs", false, nil, []string{"run", "--set", "train.epochs=0"}, 2,
			"siamese: --set train.epochs=0: 0 is out of range [1, 100000]"},
		{"unknown dataset", false, nil, []string{"run", "--set", "ingest.dataset=nosuch"}, 2,
			`siamese: --set ingest.dataset=nosuch: "nosuch" is not one of fashion, folder, mnist`},
		{"unknown param", false, nil, []string{"run", "--set", "train.nosuch=1"}, 2,
			`siamese: --set train.nosuch=1: stage train has no param "nosuch"`},
		{"lr not a number", false, nil, []string{"run", "--set", "train.lr=abc"}, 2,
			`siamese: --set train.lr=abc: want float, got string "abc"`},
		{"set without a stage", false, nil, []string{"run", "--set", "lr=1"}, 2,
			"siamese: --set lr=1: want stage.param=value"},
		{"NaN lr", false, nil, []string{"run", "--set", "train.lr=.nan"}, 2,
			"siamese: --set train.lr=.nan: NaN is not a finite number"},
		{"batch 0 in pipeline.yaml", false, yaml("batch: 32", "batch: 0"), []string{"run", "--dry-run"}, 2,
			"siamese: $DIR/pipeline.yaml:" + lineOf("batch: 32") + ": stage train: param batch: 0 is out of range [1, 65536]"},
		// Resources, before anything runs.
		{"outputs larger than the disk", false, nil, []string{"run", "--set", "triplets.per_class=20000000000"}, 2,
			"siamese: not enough disk: with stage triplets the outputs of this run need 12.8 TB more under $DIR/out, where"},
		{"outputs larger than the disk, dry run", false, nil, []string{"run", "-n", "--set", "triplets.per_class=20000000000"}, 2,
			"siamese: not enough disk: with stage triplets the outputs of this run need 12.8 TB more under $DIR/out, where"},
		{"notebook arrays larger than the disk", false, nil, []string{"run", "-n", "--set", "triplets.per_class=5000000000"}, 2,
			"nothing ran (stage notebook writes the notebook's arrays, copies of the images that nothing in the pipeline reads: " +
				"notebook_arrays: false in the pipeline file, or siamese run --notebook-arrays=false, leaves them out)"},
		{"network larger than memory", false, nil, []string{"run", "--set", "train.hidden=[65536, 65536, 65536]"}, 2,
			"siamese: not enough memory: stage train needs about 173.2 GB, and"},
		// Command lines.
		{"unknown stage", false, nil, []string{"run", "--only", "nosuch"}, 2, `siamese: --only nosuch: no stage "nosuch" (stages: ingest,`},
		{"only and from", false, nil, []string{"run", "--only", "train", "--from", "split"}, 2, "pipeline.yaml: use --only or --from, not both"},
		{"no jobs", false, nil, []string{"run", "--jobs", "0"}, 2, "siamese: --jobs 0: want at least 1"},
		{"unknown command", false, nil, []string{"frobnicate"}, 2, `siamese: unknown command "frobnicate"`},
		{"unknown log format", false, nil, []string{"--log-format", "xml", "run"}, 2, `siamese: --log-format "xml": want text or json`},
		{"only with inputs missing", false, nil, []string{"run", "--only", "train"}, 2,
			"siamese: stage train needs ingest/images.npy from stage ingest, which is missing"},
		// Pipeline files.
		{"unknown key", false, yaml("    desc: sklearn", "    colour: red\n    desc: sklearn"), []string{"run"}, 2,
			"siamese: $DIR/pipeline.yaml:" + lineOf("    desc: sklearn") + `: stage split: unknown key "colour" (want uses, desc, deps, params, outs or resources)`},
		{"cycle", false, yaml("deps: [ingest]\n    params:\n      per_class", "deps: [ingest, split]\n    params:\n      per_class"), []string{"run"}, 2,
			"siamese: $DIR/pipeline.yaml:" + lineOf("  triplets:") + ": dependency cycle: triplets → split → triplets"},
		{"not YAML", false, file("pipeline.yaml", []byte("\x00\xff{[")), []string{"run"}, 2, "siamese: $DIR/pipeline.yaml: invalid YAML: control characters are not allowed"},
		{"missing file", false, func(*testing.T, string) {}, []string{"run"}, 2, "siamese: $DIR/pipeline.yaml: cannot read"},
		{"out escapes the root", false, yaml("- train/loss.png", "- ../loss.png"), []string{"run"}, 2, "siamese: $DIR/pipeline.yaml:" + lineOf("- train/loss.png") + `: stage train: out "../loss.png" escapes the artifacts root`},
		// Arrays a stage reads.
		{"row past the triplets", true, rowPast, []string{"run", "--only", "train"}, 1,
			"siamese: stage train failed: train: $DIR/out/split/train_rows.npy names triplet 1099511627776, but the index has 80"},
		{"NaN weight in the model", true, func(t *testing.T, root string) {
			name := filepath.Join(root, "out/train/model/W1.npy")
			w, shape, err := artifacts.ReadNPY[float32](name)
			if err != nil {
				t.Fatal(err)
			}
			w[0] = float32(math.Inf(-1))
			os.Remove(name)
			if err := artifacts.WriteNPY(name, w, shape...); err != nil {
				t.Fatal(err)
			}
		}, []string{"run", "--only", "evaluate"}, 1, "siamese: stage evaluate failed: evaluate: $DIR/out/train/model/W1.npy: element 0 is -Inf: the values must be finite"},
		{"object dtype", true, file("out/"+xTrain, npyFile("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", make([]byte, 16))),
			[]string{"run", "--only", "train"}, 1, `siamese: stage train failed: train: read $DIR/out/split/train_rows.npy: object dtype "|O": the array holds pickled Python objects, which are never loaded`},
		{"evaluatable header", true, file("out/"+xTrain, npyFile("{'descr': __import__('os').system('false'), 'fortran_order': False, 'shape': (1,), }", make([]byte, 8))),
			[]string{"run", "--only", "train"}, 1, "siamese: stage train failed: train: read $DIR/out/split/train_rows.npy: header \"{'descr': __import__('os').system('false'), 'fortran_order': False, 'shape': (1,), }"},
		{"header larger than numpy allows", true, file("out/"+xTrain, npyFile("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 3), }"+strings.Repeat(" ", 10000), make([]byte, 24))),
			[]string{"run", "--only", "train"}, 1, "siamese: stage train failed: train: read $DIR/out/split/train_rows.npy: header of 10102 bytes is larger than numpy allows (10000)"},
		{"absurd shape", true, file("out/"+xTrain, npyFile("{'descr': '<i8', 'fortran_order': False, 'shape': (1000000000000,), }", nil)),
			[]string{"run", "--only", "train"}, 1, "truncated: int64 (1000000000000,) needs 8000000000000 data bytes, file has 0"},
		{"wrong shape", true, file("out/"+xTrain, good), []string{"run", "--only", "train"}, 1, "siamese: stage train failed: train: $DIR/out/split/train_rows.npy: shape [1 3], want (rows,)"},
		{"label outside the classes", true, func(t *testing.T, root string) {
			labels := make([]uint8, 70000)
			labels[3] = 12
			os.Remove(filepath.Join(root, "out/ingest/labels.npy"))
			if err := artifacts.WriteNPY(filepath.Join(root, "out/ingest/labels.npy"), labels, len(labels)); err != nil {
				t.Fatal(err)
			}
		}, []string{"run", "--only", "evaluate"}, 1, "labels.npy: label 12 of row 3 is not one of the 10 classes (0 to 9)"},
		{"triplets.arrow of another schema", true, func(t *testing.T, root string) {
			data, err := os.ReadFile(filepath.Join(root, "out/train/history.arrow"))
			if err != nil {
				t.Fatal(err)
			}
			put(t, filepath.Join(root, "out/triplets/triplets.arrow"), data)
		}, []string{"run", "--only", "evaluate"}, 1, `triplets.arrow: no column "anchor"`},
		{"triplets.arrow garbled", true, file("out/triplets/triplets.arrow", []byte("ARROW1\x00\x00garbage")), []string{"run", "--only", "pictures"}, 1,
			"siamese: stage pictures failed: pictures: read $DIR/out/triplets/triplets.arrow: arrow/ipc: could not decode footer"},
		{"triplets.arrow footer bomb", true, func(t *testing.T, root string) {
			// What make fuzz found: a footer announcing 2^32-1 fields, which
			// the Arrow reader would allocate before reading one.
			b, err := os.ReadFile(repoFile("artifacts/testdata/fuzz/FuzzReadArrow/a830fc45e84bd39b"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(b), "\n")
			s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
			if err != nil {
				t.Fatal(err)
			}
			put(t, filepath.Join(root, "out/triplets/triplets.arrow"), []byte(s))
		}, []string{"run", "--only", "pictures"}, 1,
			"siamese: stage pictures failed: pictures: read $DIR/out/triplets/triplets.arrow: malformed Arrow footer: a field list announces 4294967295 entries, more than its 512 bytes hold"},
		{"IDX bomb", false, func(t *testing.T, root string) {
			copyTree(t, src, filepath.Join(root, "src"))
			put(t, filepath.Join(root, "src", "train-images-idx3-ubyte"), idx(2051, []uint32{60000, 256, 256}, nil))
		}, []string{"run", "--only", "ingest", "--set", "ingest.source=$DIR/src"}, 1,
			"read $DIR/src/train-images-idx3-ubyte: truncated: dimensions [60000 256 256] need 3932160000 data bytes, the file holds 0"},
		{"gzip IDX bomb", false, func(t *testing.T, root string) {
			copyTree(t, src, filepath.Join(root, "src"))
			os.Remove(filepath.Join(root, "src", "train-images-idx3-ubyte"))
			put(t, filepath.Join(root, "src", "train-images-idx3-ubyte.gz"), gzipped(idx(2051, []uint32{60000, 64, 64}, make([]byte, 1<<20))))
		}, []string{"run", "--only", "ingest", "--set", "ingest.source=$DIR/src"}, 1,
			"read $DIR/src/train-images-idx3-ubyte.gz: dimensions [60000 64 64] announce 245760000 data bytes, more than a gzip file of"},
		{"PNG bomb in a folder dataset", false, func(t *testing.T, root string) {
			// A 500-byte PNG whose header declares 100000×100000 pixels.
			ihdr := binary.BigEndian.AppendUint32(nil, 100000)
			ihdr = binary.BigEndian.AppendUint32(ihdr, 100000)
			ihdr = append(ihdr, 8, 0, 0, 0, 0) // 8-bit grayscale
			png := append([]byte("\x89PNG\r\n\x1a\n"), binary.BigEndian.AppendUint32(nil, uint32(len(ihdr)))...)
			chunk := append([]byte("IHDR"), ihdr...)
			png = binary.BigEndian.AppendUint32(append(png, chunk...), crc32.ChecksumIEEE(chunk))
			png = append(png, make([]byte, 500)...)
			put(t, filepath.Join(root, "src", "shirts", "a.png"), png)
			put(t, filepath.Join(root, "src", "shoes", "b.png"), png)
		}, []string{"run", "--only", "ingest", "--set", "ingest.dataset=folder", "--set", "ingest.source=$DIR/src"}, 1,
			"png of 100000×100000 pixels: image too large (at most 67108864 pixels)"},
		// Bookkeeping: damaged records are absent, with a warning naming them.
		{"garbled stage record", true, file("out/.siamese/stages/train.json", []byte(`{"stage": "train", "outs": [`)), nil, 0,
			`stage record is damaged; treating it as absent, so the stage reruns" file=$DIR/out/.siamese/stages/train.json`},
		{"truncated run record", true, func(t *testing.T, root string) {
			runs, _ := filepath.Glob(filepath.Join(root, "out/runs/*.json"))
			put(t, runs[0], []byte(`{"id": "2026`))
		}, nil, 0, "run record is damaged; left out of the history"},
		{"garbled runs.arrow", true, file("out/runs/runs.arrow", []byte("ARROW1garbage")), nil, 0, `msg="run recorded"`},
		{"garbled checkpoint", true, func(t *testing.T, root string) {
			// The checkpoint of a training with the record's fingerprint,
			// whose record is gone (as after a crash).
			rec := filepath.Join(root, "out/.siamese/stages/train.json")
			data, err := os.ReadFile(rec)
			if err != nil {
				t.Fatal(err)
			}
			var r struct{ Fingerprint string }
			if err := json.Unmarshal(data, &r); err != nil || len(r.Fingerprint) < 23 {
				t.Fatalf("train.json: %v", err)
			}
			os.Remove(rec)
			put(t, filepath.Join(root, "out/.siamese/state/train-"+r.Fingerprint[7:23], "checkpoint.gob"), []byte("garbage"))
		}, nil, 0, `starting afresh: the checkpoint could not be read" stage=train err="model: reading checkpoint $DIR/out/.siamese/state/train-`},
		{"garbled lock file", true, file("out/.siamese/lock", []byte("not a pid\x00\xff")), nil, 0, `msg="run recorded"`},
		{"history with a garbled record", true, file("out/runs/20200101T000000Z-0000.json", []byte("{")), []string{"runs"}, 0,
			"warning: run record is damaged; left out: history: $DIR/out/runs/20200101T000000Z-0000.json: unexpected end of JSON input"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := repoFile("pipeline.yaml")
			if tc.prep != nil && (strings.Contains(tc.name, "pipeline") || tc.name == "unknown key" || tc.name == "cycle" ||
				tc.name == "not YAML" || tc.name == "missing file" || tc.name == "out escapes the root") {
				file = filepath.Join(dir, "pipeline.yaml")
			}
			if tc.fixture {
				copyTree(t, base, filepath.Join(dir, "out"))
			}
			if tc.prep != nil {
				tc.prep(t, dir)
			}
			args := tc.args
			if args == nil {
				args = smallRun(src, filepath.Join(dir, "out"))[4:]
			}
			full := []string{"-f", file, strings.ReplaceAll(R, "$DIR", dir)}
			for _, a := range args {
				full = append(full, strings.ReplaceAll(a, "$DIR", dir))
			}
			if tc.args != nil && tc.fixture && tc.args[0] == "run" {
				// Reruns of single stages take the fixture's params.
				full = append(full, smallRun(src, "")[5:]...)
			}
			code, out, errOut := runProgram(t, dir, full...)
			errOut = strings.ReplaceAll(errOut, dir, "$DIR")
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("siamese %s: exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, tc.code, tc.want, out, errOut)
			}
			if tc.name == "garbled runs.arrow" {
				// Rebuilt from runs/*.json: the fixture's run and this one.
				if tab, err := artifacts.ReadArrow(filepath.Join(dir, "out/runs/runs.arrow")); err != nil || tab.NumRows() != 2 {
					t.Errorf("runs.arrow after the run: %v", err)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "out", "ingest")); tc.code == 2 && !tc.fixture && err == nil {
				t.Errorf("siamese %s: exit 2, but a stage ran", strings.Join(args, " "))
			}
		})
	}
}
