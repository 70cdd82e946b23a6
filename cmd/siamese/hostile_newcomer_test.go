package main

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileNewcomer runs the real program on the mistakes a new user
// made: a source one level too high, missing or with an unexpanded ~
// (caught before work starts, by run, --dry-run and status alike), a
// mistyped stage, --set written with a space, a list written 256,128,
// the gate's settings sought with --set; and on serving after a train
// run alone (no silent mix of models), which must name its model. Each
// ends with its exit code and its message (paths under the case's
// directory written $DIR).
func TestHostileNewcomer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the program a dozen times on a small pipeline")
	}
	src := syntheticSource(t)
	// A pipeline whose gate a small run passes, so that it promotes.
	data, err := os.ReadFile(repoFile("pipeline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	text = text[:strings.Index(text, "\ngate:")] + "\ngate:\n  - metric: roc_auc\n    min: 0\n" + text[strings.Index(text, "\n# A run that passes"):]
	file := filepath.Join(t.TempDir(), "pipeline.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	small := []string{"--set", "ingest.source=" + src, "--set", "triplets.per_class=8", "--set", "train.epochs=2",
		"--set", "train.hidden=[32, 16]", "--set", "evaluate.queries=200", "--set", "evaluate.pca_points=50"}
	trained := filepath.Join(t.TempDir(), "trained")
	if code, out, errOut := runProgram(t, ".", append([]string{"-f", file, "--artifacts", trained + "/out", "run"}, small...)...); code != 0 {
		t.Fatalf("the fixture's run: exit %d\n%s%s", code, out, errOut)
	}
	fixture := func(t *testing.T, dir string) {
		if out, err := exec.Command("cp", "-a", trained+"/out", dir+"/out").CombinedOutput(); err != nil {
			t.Fatalf("cp: %v\n%s", err, out)
		}
	}
	trainAlone := func(t *testing.T, dir string) {
		fixture(t, dir)
		args := append([]string{"-f", file, "--artifacts", dir + "/out", "run", "--only", "train"}, small...)
		if code, out, errOut := runProgram(t, dir, append(args, "--set", "train.seed=7")...); code != 0 {
			t.Fatalf("run --only train: exit %d\n%s%s", code, out, errOut)
		}
	}
	aboveDataset := func(t *testing.T, dir string) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, p := range []string{"data/line/bolt/1.png", "data/line/nut/2.png", "data/incoming/3.png"} {
			writeImage(t, filepath.Join(dir, p), "bolt", rng)
		}
	}
	folder := func(source string) []string {
		return []string{"--set", "ingest.dataset=folder", "--set", "ingest.source=" + source}
	}
	noRun := func(t *testing.T, dir string) {
		if _, err := os.Stat(filepath.Join(dir, "out", "runs")); err == nil {
			t.Errorf("a run was recorded")
		}
	}
	const missing = `stage ingest: source $DIR/data/lin does not exist`
	cases := []struct {
		name  string
		prep  func(t *testing.T, dir string)
		args  []string // after -f FILE --artifacts $DIR/out
		code  int
		want  string // in stdout or stderr
		after func(t *testing.T, dir string)
	}{
		// Mistakes caught before work starts.
		{"source one level too high", aboveDataset, append([]string{"run"}, folder("$DIR/data")...), 2,
			"stage ingest: $DIR/data looks like the folder above a dataset: line/ holds bolt/, nut/, class folders one level down and no image of their own (is the source one level too high? set it to one of those folders); want $DIR/data/<class>/*.png", noRun},
		{"source one level too high, dry run", aboveDataset, append([]string{"run", "--dry-run"}, folder("$DIR/data")...), 2,
			"looks like the folder above a dataset", nil},
		{"source missing", aboveDataset, append([]string{"run"}, folder("$DIR/data/lin")...), 2, missing + " ($DIR/data holds incoming/, line/)", noRun},
		{"source missing, dry run", aboveDataset, append([]string{"run", "--dry-run"}, folder("$DIR/data/lin")...), 2, missing, nil},
		{"source missing, status", aboveDataset, append([]string{"status"}, folder("$DIR/data/lin")...), 2, missing, nil},
		{"source missing, fashion", nil, []string{"run", "--set", "ingest.source=$DIR/fashion"}, 2, "stage ingest: source $DIR/fashion does not exist", noRun},
		{"unexpanded ~, dry run", nil, append([]string{"run", "--dry-run"}, folder("~/line")...), 2,
			"stage ingest: source ~/line starts with a ~ that no shell expanded (a pipeline file, or a --set value after =, keeps it as it is): write the full path, such as ", nil},
		{"unexpanded ~, status", nil, append([]string{"status"}, folder("~/line")...), 2, "source ~/line starts with a ~ that no shell expanded", nil},
		{"mistyped stage", nil, []string{"run", "--only", "trian"}, 2,
			`siamese: --only trian: no stage "trian"; did you mean "train"? (stages: ingest, triplets, split, pictures, notebook, train, evaluate)`, nil},
		{"mistyped stage, from", nil, []string{"run", "--from", "evalute"}, 2, `siamese: --from evalute: no stage "evalute"; did you mean "evaluate"?`, nil},
		{"--set with a space", nil, []string{"run", "--set", "train.epochs", "2"}, 2,
			"siamese: --set train.epochs 2: write --set train.epochs=2 (stage.param=value, one word)", nil},
		{"--set without a value", nil, []string{"run", "--set", "train.epochs"}, 2,
			"siamese: --set train.epochs: want stage.param=value: write --set train.epochs=VALUE, with = and no space", nil},
		{"a list written 256,128", nil, []string{"run", "--dry-run", "--set", "train.hidden=256,128"}, 0, "train     would run", nil},
		{"a list of words", nil, []string{"run", "--dry-run", "--set", "train.hidden=wide,deep"}, 2,
			`siamese: --set train.hidden=wide,deep: want list of int, got string "wide" in the list (write a list as [256, 128], or 256,128 with --set)`, nil},
		{"the gate's settings", nil, []string{"run", "--set", "gate.roc_auc=0.9"}, 2,
			`siamese: --set gate.roc_auc=0.9: no stage "gate": the quality gate's thresholds are the gate: block of ` + file, nil},
		// Serving never mixes models, and says which it used.
		{"score names its model", fixture, []string{"score", "--model", "latest", "$DIR/out/ingest/images.npy"}, 0,
			"scoring with model 2", nil},
		{"latest after train alone", trainAlone, []string{"score", "--model", "latest", "$DIR/out/ingest/images.npy"}, 1,
			"siamese: --model latest would mix two models: evaluate (", nil},
		{"latest after train alone, allowed", trainAlone, []string{"score", "--allow-mixed", "--model", "latest", "$DIR/out/ingest/images.npy"}, 0,
			`msg="scoring with a mixed model (--allow-mixed)"`, nil},
		{"current after train alone", trainAlone, []string{"score", "$DIR/out/ingest/images.npy"}, 0, "(--model current), dataset " + src + ", classes 10 (", nil},
		{"models name their dataset", fixture, []string{"models"}, 0, "DATASET", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.prep != nil {
				tc.prep(t, dir)
			}
			full := []string{"-f", file, "--artifacts", dir + "/out"}
			for _, a := range tc.args {
				full = append(full, strings.ReplaceAll(a, "$DIR", dir))
			}
			code, out, errOut := runProgram(t, dir, full...)
			got := strings.ReplaceAll(out+errOut, dir, "$DIR")
			if code != tc.code || !strings.Contains(got, tc.want) {
				t.Errorf("siamese %s: exit %d, want %d with %q\n%s", strings.Join(tc.args, " "), code, tc.code, tc.want, got)
			}
			if tc.name == "models name their dataset" && !strings.Contains(out, src) {
				t.Errorf("models does not show the dataset %s:\n%s", src, out)
			}
			if tc.after != nil {
				tc.after(t, dir)
			}
		})
	}
}
