package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"go.yaml.in/yaml/v3"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/models"
	"github.com/siamese-pipeline/siamese/stages"
)

// servingYAML writes the repository's pipeline.yaml with another quality
// gate (a minimum roc_auc) and keep, and returns its path.
func servingYAML(t *testing.T, dir, name string, minAUC float64) string {
	t.Helper()
	data, err := os.ReadFile("../../pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	doc["gate"] = []map[string]any{{"metric": "roc_auc", "min": minAUC}}
	doc["models"] = map[string]any{"keep": 3}
	doc["monitoring"] = map[string]any{"prometheus": "textfile/siamese.prom"}
	if data, err = yaml.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writePNGs writes n images of images.npy as PNG files in class folders,
// every third one enlarged to 40×40, and returns the folder.
func writePNGs(t *testing.T, images string, n int, dir string) string {
	t.Helper()
	px, shape, err := artifacts.ReadNPY[uint8](images)
	if err != nil {
		t.Fatal(err)
	}
	side := shape[1]
	for i := range n {
		img := image.NewGray(image.Rect(0, 0, side, side))
		copy(img.Pix, px[i*side*side:(i+1)*side*side])
		var out image.Image = img
		if i%3 == 0 { // nearest-neighbour enlargement
			big := image.NewGray(image.Rect(0, 0, 40, 40))
			for y := range 40 {
				for x := range 40 {
					big.SetGray(x, y, img.GrayAt(x*side/40, y*side/40))
				}
			}
			out = big
		}
		var b bytes.Buffer
		if err := png.Encode(&b, out); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, []string{"a", "b"}[i%2], strings.Repeat("x", 1+i/10)+string(rune('0'+i%10))+".png")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestPromotionAndScore runs the real pipeline, small, through the command
// line: score with the latest model; a run that passes the gate becomes
// what score uses by default; a failed gate, a failed stage and a --no-gate
// run leave what score prints unchanged to the byte.
func TestPromotionAndScore(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the network twice")
	}
	tmp := t.TempDir()
	src, root := filepath.Join(tmp, "fashion"), filepath.Join(tmp, "out")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	writeIDX(t, src)
	pass, fail := servingYAML(t, tmp, "pass.yaml", 0.5), servingYAML(t, tmp, "fail.yaml", 1.01)
	siamese := func(file string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := newApp(&out, &errOut, stages.Registry()).run(context.Background(), append([]string{"-f", file, "--artifacts", root}, args...))
		return code, out.String(), errOut.String()
	}
	run := func(file string, want int, sets ...string) {
		t.Helper()
		args := []string{"run", "--set", "ingest.source=" + src, "--set", "triplets.per_class=20", "--set", "train.epochs=2",
			"--set", "evaluate.queries=1000", "--set", "evaluate.pca_points=300"}
		if code, out, errOut := siamese(file, append(args, sets...)...); code != want {
			t.Fatalf("siamese run %v: exit %d, want %d\n%s%s", sets, code, want, out, errOut)
		}
	}

	// Nothing promoted yet: score says what to do.
	npy := filepath.Join(tmp, "some.npy")
	if code, _, errOut := siamese(pass, "score", npy); code != 1 || !strings.Contains(errOut, "use --model latest") {
		t.Fatalf("score before any promotion: exit %d\n%s", code, errOut)
	}
	run(pass, 0, "--no-gate")
	if code, _, errOut := siamese(pass, "score", npy); code != 1 || !strings.Contains(errOut, "no model has been promoted") {
		t.Errorf("a --no-gate run promoted its model: exit %d\n%s", code, errOut)
	}

	// score --model latest: one row per image of a folder of PNGs.
	images := filepath.Join(root, "ingest/images.npy")
	dir := writePNGs(t, images, 30, filepath.Join(tmp, "incoming"))
	code, out, errOut := siamese(pass, "score", "--model", "latest", "--format", "csv", dir)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) != 31 || strings.Join(rows[0], ",") != "path,class,distance,anomaly_score,pass" {
		t.Fatalf("score --model latest --format csv DIR: exit %d, %d rows, %v\n%s%s", code, len(rows), err, out, errOut)
	}
	classes, _ := os.ReadFile(filepath.Join(root, "ingest/classes.txt"))
	for _, r := range rows[1:] {
		if !strings.HasPrefix(r[0], dir) || !strings.Contains(string(classes), r[1]+"\n") || (r[4] != "true" && r[4] != "false") {
			t.Errorf("row %q", r)
		}
	}

	// -o writes a file whole, and writes a device in place: /dev/null
	// stays a device.
	if code, _, errOut := siamese(pass, "score", "--model", "latest", "-o", os.DevNull, dir); code != 0 {
		t.Errorf("score -o %s: exit %d\n%s", os.DevNull, code, errOut)
	}
	if info, err := os.Stat(os.DevNull); err != nil || info.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("score -o %s replaced the device: %v %v", os.DevNull, info, err)
	}
	csvOut := filepath.Join(tmp, "scores.csv")
	if code, _, errOut := siamese(pass, "score", "--model", "latest", "--format", "csv", "-o", csvOut, dir); code != 0 {
		t.Errorf("score -o FILE: exit %d\n%s", code, errOut)
	} else if got, _ := os.ReadFile(csvOut); string(got) != out {
		t.Errorf("score -o FILE wrote %d bytes, stdout had %d", len(got), len(out))
	}

	// A run that passes the gate promotes its model.
	run(pass, 0)
	cur, err := models.CurrentModel(root)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Preprocess.ImageSize != 28 || cur.Preprocess.Filter != "bilinear" || cur.Metrics["roc_auc"] < 0.5 {
		t.Errorf("promoted model: %+v", cur.Manifest)
	}
	px, _, err := artifacts.ReadNPY[uint8](images)
	if err != nil {
		t.Fatal(err)
	}
	if err := artifacts.WriteNPY(npy, px[:500*784], 500, 28, 28); err != nil {
		t.Fatal(err)
	}
	score := func(model string) string {
		t.Helper()
		args := []string{"score", "--format", "json", npy, dir}
		if model != "" {
			args = append(args, "--model", model)
		}
		code, out, errOut := siamese(pass, args...)
		if code != 0 {
			t.Fatalf("score %v: exit %d\n%s", args, code, errOut)
		}
		return out
	}
	before, latest := score(""), score("latest")
	if before != latest || strings.Count(before, `"path"`) != 530 {
		t.Fatalf("the promoted model scores otherwise than the latest one, or not 530 rows:\n%.500s", before)
	}
	if code, out, _ := siamese(pass, "models"); code != 0 || !strings.Contains(out, "* ") || !strings.Contains(out, cur.Run) {
		t.Errorf("models: exit %d\n%s", code, out)
	}

	// A retrained model that fails the gate, a failed stage, a --no-gate
	// run: none changes a byte of what score prints.
	run(fail, 3, "--set", "train.seed=7")
	if score("latest") == before {
		t.Fatal("retraining with another seed did not change the latest model")
	}
	empty := filepath.Join(tmp, "empty") // there, so ingest starts, and holds no dataset, so it fails
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	run(pass, 1, "--set", "ingest.source="+empty)
	run(pass, 0, "--no-gate", "--set", "train.seed=8")
	if after := score(""); after != before {
		t.Errorf("score's output changed though no run passed the gate since")
	}
	if after := score(cur.Run); after != before {
		t.Errorf("score --model RUN-ID differs from current")
	}
	if now, err := models.CurrentModel(root); err != nil || now.Run != cur.Run {
		t.Errorf("current moved to %v (%v)", now, err)
	}

	// The last run reported to monitoring: Prometheus parses it.
	f, err := os.Open(filepath.Join(root, "textfile/siamese.prom"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatal(err)
	}
	info := fams["siamese_current_model_info"]
	if info == nil || info.Metric[0].Label[0].GetValue() != cur.Run || fams["siamese_last_run_gate_checked"].Metric[0].GetGauge().GetValue() != 0 {
		t.Errorf("siamese.prom: current model %v, gate checked %v", info, fams["siamese_last_run_gate_checked"])
	}

	// A second passing run with another model moves current.
	run(pass, 0, "--set", "train.seed=7")
	if now, err := models.CurrentModel(root); err != nil || now.Run == cur.Run || score("") == before {
		t.Errorf("a passing run did not promote its model: %v %v", now, err)
	}
	all, err := models.List(root)
	if err != nil || len(all) != 2 {
		t.Errorf("promoted models: %v, %v", all, err)
	}
}

func TestServingCommandsHelpAndUsage(t *testing.T) {
	dir := setup(t, testYAML)
	for _, tc := range []struct {
		args []string
		code int
		want string // in stdout, or stderr
	}{
		{[]string{"score", "--help"}, 0, "Usage:"},
		{[]string{"models", "--help"}, 0, "Usage:"},
		{[]string{"score"}, 2, "at least one image file"},
		{[]string{"score", "--format", "xml", "x.npy"}, 2, `--format "xml"`},
		{[]string{"score", "x.npy"}, 1, "use --model latest"},
		{[]string{"score", "--model", "latest", "x.npy"}, 1, "no stage writes a model to score with"},
		{[]string{"models", "extra"}, 2, "takes no arguments"},
		{[]string{"models"}, 0, "no model promoted yet"},
	} {
		code, out, errOut := siamese(t, dir, tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("siamese %v: exit %d, want %d with %q\n%s%s", tc.args, code, tc.code, tc.want, out, errOut)
		}
	}
}
