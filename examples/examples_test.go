// Tests of the notebook handoff: load_artifacts.py, its notebook and
// check_arrow.mjs, run on a small artifacts tree this test writes with the
// Go artifacts package, with the metrics computed by the Go metrics package.
package examples_test

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/internal/pytest"
	"github.com/siamese-pipeline/siamese/internal/testenv"
	"github.com/siamese-pipeline/siamese/metrics"
	"github.com/siamese-pipeline/siamese/model"
)

const python = pytest.Python

func needPython(t *testing.T) {
	t.Helper()
	pytest.Need(t, "numpy", "sklearn")
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// The fake tree: small, but with every file the pipeline writes.
const (
	nImages  = 300
	side     = 28
	pix      = side * side
	classes  = 10
	perClass = 24
	nTrip    = classes * perClass
	nTest    = 200 // enough pairs that one swap of nearly tied scores moves the AUC by < 1e-4
	hidden   = 32
	embDim   = 16
	// How far apart the class prototypes are: enough for the fake model to
	// score most pairs right, not all.
	protoSpread = 0.4
)

type tree struct {
	dir     string
	metrics map[string]any
}

func mkdirs(t *testing.T, dir string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if err := os.MkdirAll(filepath.Join(dir, s), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// buildTree writes a fake artifacts tree: class-prototype images, triplets
// drawn as the pipeline does, a split, a random 784→32→16 MLP, and
// evaluate/metrics.json computed in Go from the Go forward pass.
func buildTree(t *testing.T) *tree {
	t.Helper()
	dir := t.TempDir()
	mkdirs(t, dir, "ingest", "triplets", "flatten", "split", "train/model", "evaluate", ".siamese")
	rng := rand.New(rand.NewPCG(7, 11))

	// ingest: each image is its class prototype plus noise.
	base := make([]float64, pix)
	for i := range base {
		base[i] = 0.2 + 0.6*rng.Float64()
	}
	proto := make([][]float64, classes)
	for c := range proto {
		proto[c] = make([]float64, pix)
		for i := range proto[c] {
			proto[c][i] = base[i] + protoSpread*(rng.Float64()-0.5)
		}
	}
	images, labels := make([]uint8, nImages*pix), make([]uint8, nImages)
	byClass := make([][]int64, classes)
	for i := range nImages {
		c := i % classes
		labels[i] = uint8(c)
		byClass[c] = append(byClass[c], int64(i))
		for j := range pix {
			v := proto[c][j] + 0.3*rng.NormFloat64()
			images[i*pix+j] = uint8(math.Round(255 * min(max(v, 0), 1)))
		}
	}
	must(t, artifacts.WriteNPY(filepath.Join(dir, "ingest/images.npy"), images, nImages, side, side))
	must(t, artifacts.WriteNPY(filepath.Join(dir, "ingest/labels.npy"), labels, nImages))

	// triplets, class-major like the pipeline's.
	rows := make([]int64, 3*nTrip)
	id, cls := make([]int64, nTrip), make([]int64, nTrip)
	var trip [3][]int64
	var lab [3][]uint8
	for i := range nTrip {
		c := i / perClass
		other := (c + 1 + rng.IntN(classes-1)) % classes
		a := byClass[c][rng.IntN(len(byClass[c]))]
		p := byClass[c][rng.IntN(len(byClass[c]))]
		n := byClass[other][rng.IntN(len(byClass[other]))]
		id[i], cls[i] = int64(i), int64(c)
		for k, r := range []int64{a, p, n} {
			rows[3*i+k] = r
			trip[k] = append(trip[k], r)
			lab[k] = append(lab[k], labels[r])
		}
	}
	tripImages := make([]uint8, 0, 3*nTrip*pix)
	flat := make([]float64, 0, 3*nTrip*pix)
	for _, r := range rows {
		img := images[int(r)*pix : int(r+1)*pix]
		tripImages = append(tripImages, img...)
		for _, v := range img {
			flat = append(flat, float64(v)/255)
		}
	}
	must(t, artifacts.WriteNPY(filepath.Join(dir, "triplets/triplets_fasion_MNIST_array.npy"), tripImages, nTrip, 3, side, side))
	must(t, artifacts.WriteArrow(filepath.Join(dir, "triplets/triplets.arrow"), artifacts.NewColumns().
		Int64("id", id).Int64("class", cls).Int64("anchor", trip[0]).Int64("positive", trip[1]).Int64("negative", trip[2]).
		Uint8("anchor_label", lab[0]).Uint8("positive_label", lab[1]).Uint8("negative_label", lab[2])))
	must(t, artifacts.WriteNPY(filepath.Join(dir, "flatten/triplets_fasion_MNIST_flatten.npy"), flat, nTrip, 3, pix))

	// split: a random nTest triplets for testing, the rest for training.
	perm := rng.Perm(nTrip)
	testRows, trainRows := make([]int64, nTest), make([]int64, nTrip-nTest)
	var xTest, xTrain []float64
	for i, r := range perm {
		tr := flat[r*3*pix : (r+1)*3*pix]
		if i < nTest {
			testRows[i] = int64(r)
			xTest = append(xTest, tr...)
		} else {
			trainRows[i-nTest] = int64(r)
			xTrain = append(xTrain, tr...)
		}
	}
	must(t, artifacts.WriteNPY(filepath.Join(dir, "split/X_test.npy"), xTest, nTest, 3, pix))
	must(t, artifacts.WriteNPY(filepath.Join(dir, "split/X_train.npy"), xTrain, nTrip-nTest, 3, pix))
	must(t, artifacts.WriteNPY(filepath.Join(dir, "split/test_rows.npy"), testRows, nTest))
	must(t, artifacts.WriteNPY(filepath.Join(dir, "split/train_rows.npy"), trainRows, nTrip-nTest))

	// train: a two-layer MLP, written with the pipeline's own
	// artifacts.WriteMLP. The first layer projects onto the class
	// prototypes (less their mean) and random directions; the second is
	// random, with the bias that centres the test embeddings, so that pairs
	// score on both sides of 0.5.
	l0 := artifacts.Dense{In: pix, Out: hidden, W: make([]float32, pix*hidden), B: make([]float32, hidden), Activation: "relu"}
	mean := make([]float64, pix)
	for c := range classes {
		for k := range pix {
			mean[k] += proto[c][k] / classes
		}
	}
	for j := range hidden {
		var dot float64
		for k := range pix {
			var w float64
			if j < classes {
				w = (proto[j][k] - mean[k]) / 10
			} else {
				w = rng.NormFloat64() / 28
			}
			l0.W[k*hidden+j] = float32(w)
			dot += w * mean[k]
		}
		l0.B[j] = float32(-dot)
	}
	l1 := artifacts.Dense{In: hidden, Out: embDim, W: make([]float32, hidden*embDim), B: make([]float32, embDim), Activation: "linear"}
	for i := range l1.W {
		l1.W[i] = float32(rng.NormFloat64() / math.Sqrt(hidden))
	}
	// The pipeline's forward pass (evaluate uses model.Embed too).
	x32 := make([]float32, len(xTest))
	for i, v := range xTest {
		x32[i] = float32(v)
	}
	embed := func() []float32 {
		w := &model.Weights{Layers: []model.Layer{{In: l0.In, Out: l0.Out, W: l0.W, B: l0.B}, {In: l1.In, Out: l1.Out, W: l1.W, B: l1.B}}}
		return model.Embed(w, x32, 3*nTest)
	}
	centre := make([]float64, embDim)
	for i, v := range embed() {
		centre[i%embDim] += float64(v) / (3 * nTest)
	}
	for j := range embDim {
		l1.B[j] = float32(-centre[j])
	}
	must(t, artifacts.WriteMLP(filepath.Join(dir, "train/model"), []artifacts.Dense{l0, l1}, map[string]any{"loss": "cosine_triplet"}))
	must(t, artifacts.WriteArrow(filepath.Join(dir, "train/history.arrow"), artifacts.NewColumns().
		Int64("epoch", []int64{1, 2, 3}).Float64("loss", []float64{0.3, 0.2, 0.15}).
		Float64("val_loss", []float64{0.31, 0.22, 0.2}).Float64("seconds", []float64{1.5, 1.4, 1.4})))

	// evaluate: embeddings, scores and metrics as the evaluate stage makes them.
	all := embed() // anchor, positive, negative of each test triplet
	var emb [3][]float32
	embClass := make([]int64, nTest)
	for i := range nTest {
		embClass[i] = cls[testRows[i]]
		for k := range 3 {
			emb[k] = append(emb[k], all[(3*i+k)*embDim:(3*i+k+1)*embDim]...)
		}
	}
	scores := make([]float64, 2*nTest)
	truth := make([]bool, 2*nTest)
	// The evaluate stage's columns: scores has every positive pair, then
	// every negative pair.
	pair, pairID, pairClass, pairLabel := make([]int64, 2*nTest), make([]int64, 2*nTest), make([]int64, 2*nTest), make([]int64, 2*nTest)
	kind := make([]string, 2*nTest)
	for i := range nTest {
		a := emb[0][i*embDim : (i+1)*embDim]
		scores[i] = metrics.AngularSimilarity(metrics.Cosine(a, emb[1][i*embDim:(i+1)*embDim]))
		scores[nTest+i] = metrics.AngularSimilarity(metrics.Cosine(a, emb[2][i*embDim:(i+1)*embDim]))
		truth[i], pairLabel[i] = true, 1
	}
	for i := range 2 * nTest {
		pair[i], pairID[i], pairClass[i], kind[i] = int64(i), testRows[i%nTest], embClass[i%nTest], "negative"
		if truth[i] {
			kind[i] = "positive"
		}
	}
	must(t, artifacts.WriteArrow(filepath.Join(dir, "evaluate/embeddings.arrow"), artifacts.NewColumns().
		Int64("id", testRows).Int64("class", embClass).FixedFloat32("anchor", emb[0], embDim).
		FixedFloat32("positive", emb[1], embDim).FixedFloat32("negative", emb[2], embDim)))
	must(t, artifacts.WriteArrow(filepath.Join(dir, "evaluate/scores.arrow"), artifacts.NewColumns().
		Int64("pair", pair).Int64("id", pairID).Int64("class", pairClass).String("kind", kind).
		Float64("similarity", scores).Int64("label", pairLabel)))
	auc, err := metrics.ROCAUC(scores, truth)
	must(t, err)
	ap, err := metrics.AveragePrecision(scores, truth)
	must(t, err)
	best, thr := metrics.BestThresholdAccuracy(scores, truth)
	m := map[string]any{
		"binary_accuracy": metrics.BinaryAccuracy(scores, truth, 0.5),
		"roc_auc":         auc, "pr_auc": ap, "best_accuracy": best, "best_threshold": thr,
		"test_triplets": nTest,
		"per_class": []map[string]any{{"class": 0, "name": "T-shirt/top",
			"anomaly_auroc_mean_embedding": 0.9, "anomaly_auroc_mean_image": 0.85}},
	}
	if acc := m["binary_accuracy"].(float64); auc < 0.7 || auc > 0.99 || acc < 0.6 || acc > 0.95 {
		t.Fatalf("the fake model is too bad or too good (ROC AUC %.3f, accuracy %.3f): tune the test data", auc, acc)
	}
	writeJSON(t, filepath.Join(dir, "evaluate/metrics.json"), m)
	writeAnchors(t, dir, emb[0], embClass)
	return &tree{dir: dir, metrics: m}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	must(t, err)
	must(t, os.WriteFile(path, b, 0o644))
}

// run runs a command in this directory and returns its exit code, stdout
// and stderr.
func run(t *testing.T, name string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return code, stdout.String(), stderr.String()
}

func TestLoadArtifacts(t *testing.T) {
	needPython(t)
	tr := buildTree(t)
	expected := filepath.Join(t.TempDir(), "expected.json")
	code, out, errOut := run(t, python, "load_artifacts.py", "--artifacts", tr.dir, "--check", "--write-expected", expected)
	if code != 0 {
		t.Fatalf("load_artifacts.py --check: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"ingest/images.npy", "uint8", "(300, 28, 28)",
		"triplets/triplets_fasion_MNIST_array.npy", "(240, 3, 28, 28)",
		"flatten/triplets_fasion_MNIST_flatten.npy", "float64", "(240, 3, 784)",
		"split/X_test.npy", "(200, 3, 784)", "split/test_rows.npy", "int64",
		"train/model/W0.npy", "float32", "(784, 32)",
		"layer 0: 784→32", "relu", "layer 1: 32→16", "linear",
		"embeddings (200, 3, 16) float32",
		"all metrics match",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "pyarrow is not installed") && !strings.Contains(out, "evaluate/scores.arrow: 400 rows") {
		t.Errorf("output says nothing of the Arrow files:\n%s", out)
	}
	var mine map[string]float64
	b, err := os.ReadFile(expected)
	must(t, err)
	must(t, json.Unmarshal(b, &mine))
	if mine["pairs"] != 2*nTest {
		t.Errorf("--write-expected: %v", mine)
	}
	t.Logf("Go: %v\nPython: %v", tr.metrics, mine)

	// A tampered metrics.json fails the check.
	pairs := float64(2 * nTest)
	for _, tc := range []struct {
		name   string
		tamper func(m map[string]any)
		want   string
	}{
		{"roc_auc off by 2e-4", func(m map[string]any) { m["roc_auc"] = m["roc_auc"].(float64) + 2e-4 }, "roc_auc"},
		{"pr_auc off by 1e-3", func(m map[string]any) { m["pr_auc"] = m["pr_auc"].(float64) - 1e-3 }, "pr_auc"},
		{"accuracy off by one pair", func(m map[string]any) { m["binary_accuracy"] = m["binary_accuracy"].(float64) + 1/pairs }, "binary_accuracy"},
		{"roc_auc missing", func(m map[string]any) { delete(m, "roc_auc") }, "roc_auc: metrics.json has None"},
		{"accuracy a string", func(m map[string]any) { m["binary_accuracy"] = "0.9" }, "binary_accuracy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]any{}
			for k, v := range tr.metrics {
				m[k] = v
			}
			tc.tamper(m)
			writeJSON(t, filepath.Join(tr.dir, "evaluate/metrics.json"), m)
			code, out, errOut := run(t, python, "load_artifacts.py", "--artifacts", tr.dir, "--check")
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want 1 with %q in stderr\nstdout:\n%s\nstderr:\n%s", code, tc.want, out, errOut)
			}
		})
	}
	t.Run("no artifacts", func(t *testing.T) {
		code, _, errOut := run(t, python, "load_artifacts.py", "--artifacts", filepath.Join(tr.dir, "nope"))
		if code != 2 || !strings.Contains(errOut, "not a directory") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
}

// notebook is the part of nbformat 4 this test checks.
type notebook struct {
	Cells []struct {
		CellType       string          `json:"cell_type"`
		ID             string          `json:"id"`
		Metadata       map[string]any  `json:"metadata"`
		Source         []string        `json:"source"`
		ExecutionCount json.RawMessage `json:"execution_count"`
		Outputs        []any           `json:"outputs"`
	} `json:"cells"`
	Metadata      map[string]any `json:"metadata"`
	NBFormat      int            `json:"nbformat"`
	NBFormatMinor int            `json:"nbformat_minor"`
}

func readNotebook(t *testing.T) (notebook, []string) {
	t.Helper()
	b, err := os.ReadFile("load_artifacts.ipynb")
	must(t, err)
	var nb notebook
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatalf("load_artifacts.ipynb is not JSON: %v", err)
	}
	var code []string
	for _, c := range nb.Cells {
		if c.CellType == "code" {
			code = append(code, strings.Join(c.Source, ""))
		}
	}
	return nb, code
}

// TestNotebook checks that load_artifacts.ipynb is a valid nbformat 4
// notebook holding every function of load_artifacts.py verbatim.
func TestNotebook(t *testing.T) {
	nb, code := readNotebook(t)
	if nb.NBFormat != 4 || nb.NBFormatMinor < 4 {
		t.Errorf("nbformat %d.%d, want 4.4+", nb.NBFormat, nb.NBFormatMinor)
	}
	if ks, _ := nb.Metadata["kernelspec"].(map[string]any); ks["name"] != "python3" {
		t.Errorf("kernelspec %v", nb.Metadata["kernelspec"])
	}
	ids := map[string]bool{}
	validID := regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	markdown := 0
	for i, c := range nb.Cells {
		switch c.CellType {
		case "markdown":
			markdown++
			if c.ExecutionCount != nil || c.Outputs != nil {
				t.Errorf("markdown cell %d has code-cell fields", i)
			}
		case "code":
			if string(c.ExecutionCount) != "null" || c.Outputs == nil {
				t.Errorf("code cell %d: execution_count %s, outputs %v; want null and []", i, c.ExecutionCount, c.Outputs)
			}
		default:
			t.Errorf("cell %d has type %q", i, c.CellType)
		}
		if !validID.MatchString(c.ID) || ids[c.ID] {
			t.Errorf("cell %d: bad or repeated id %q", i, c.ID)
		}
		ids[c.ID] = true
		if c.Metadata == nil || len(c.Source) == 0 {
			t.Errorf("cell %d: no metadata or empty source", i)
		}
		for j, line := range c.Source[:max(len(c.Source)-1, 0)] {
			if !strings.HasSuffix(line, "\n") {
				t.Errorf("cell %d line %d does not end in a newline: %q", i, j, line)
			}
		}
	}
	if markdown < 5 {
		t.Errorf("%d markdown cells: explain the steps", markdown)
	}

	script, err := os.ReadFile("load_artifacts.py")
	must(t, err)
	all := strings.Join(code, "\n")
	funcs := regexp.MustCompile(`(?m)^def (\w+)\(.*(?:\n(?:[ \t]+.*|))*`).FindAllStringSubmatch(string(script), -1)
	if len(funcs) < 8 {
		t.Fatalf("found %d functions in load_artifacts.py", len(funcs))
	}
	for _, f := range funcs {
		if f[1] == "main" {
			continue
		}
		body := strings.TrimRight(f[0], "\n")
		if !strings.Contains(all, body) {
			t.Errorf("the notebook lacks load_artifacts.py's %s as it is now; run python3 examples/make_notebook.py", f[1])
		}
	}
	if _, err := os.Stat(python); err == nil {
		if code, _, errOut := run(t, python, "make_notebook.py", "--check"); code != 0 {
			t.Errorf("make_notebook.py --check: exit %d: %s", code, errOut)
		}
	}
}

// TestNotebookRuns runs the notebook's code cells, in order, as one script
// on the fake tree.
func TestNotebookRuns(t *testing.T) {
	needPython(t)
	tr := buildTree(t)
	_, code := readNotebook(t)
	src := strings.Join(code, "\n\n")
	set := regexp.MustCompile(`(?m)^ARTIFACTS = .*$`)
	if !set.MatchString(src) {
		t.Fatal("no ARTIFACTS = ... cell in the notebook")
	}
	src = set.ReplaceAllLiteralString(src, "ARTIFACTS = "+pyString(tr.dir))
	src += "\nassert not problems, problems\nprint('notebook ok', mine)\n"
	path := filepath.Join(t.TempDir(), "notebook.py")
	must(t, os.WriteFile(path, []byte(src), 0o644))
	code2, out, errOut := run(t, python, path)
	if code2 != 0 || !strings.Contains(out, "notebook ok") {
		t.Errorf("notebook cells: exit %d\n%s\n%s", code2, out, errOut)
	}
}

func pyString(s string) string {
	b, _ := json.Marshal(s) // a JSON string is a valid Python string literal
	return string(b)
}

func needNodeArrow(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node not found on PATH")
	}
	if _, err := os.Stat("../interop/node_modules/apache-arrow"); err != nil {
		testenv.Missing(t, "interop/node_modules/apache-arrow missing; run `npm ci --prefix interop`")
	}
	return node
}

func TestCheckArrow(t *testing.T) {
	node := needNodeArrow(t)
	tr := buildTree(t)
	code, out, errOut := run(t, node, "check_arrow.mjs", tr.dir)
	if code != 0 {
		t.Fatalf("check_arrow.mjs: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"triplets/triplets.arrow: 240 rows", "anchor_label: Uint8",
		"train/history.arrow: 3 rows", "evaluate/embeddings.arrow: 200 rows", "embedding width 16",
		"evaluate/scores.arrow: 400 rows", "200 positive and 200 negative pairs", "all Arrow files ok",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	t.Run("broken", func(t *testing.T) {
		must(t, artifacts.WriteArrow(filepath.Join(tr.dir, "evaluate/scores.arrow"), artifacts.NewColumns().
			Int64("id", []int64{0}).Float64("similarity", []float64{1.5})))
		must(t, artifacts.WriteArrow(filepath.Join(tr.dir, "train/history.arrow"), artifacts.NewColumns().
			String("epoch", []string{"1"}).Float64("loss", []float64{1}).Float64("val_loss", []float64{1}).Float64("seconds", []float64{1})))
		must(t, os.Remove(filepath.Join(tr.dir, "triplets/triplets.arrow")))
		code, out, errOut := run(t, node, "check_arrow.mjs", tr.dir)
		if code != 1 {
			t.Errorf("exit %d, want 1\n%s\n%s", code, out, errOut)
		}
		for _, want := range []string{"triplets/triplets.arrow: missing", "scores.arrow: no column label",
			"history.arrow: column epoch is Utf8, want int"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errOut)
			}
		}
	})
}
