package docs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// root is the repository's root, from this package's directory.
const root = "../.."

func TestBlocks(t *testing.T) {
	for _, c := range []struct {
		name, text string
		want       []string // name=content of each block
		err        string
	}{
		{"one", "a\n<!-- docs:x -->\n1\n2\n<!-- /docs:x -->\nb\n", []string{"x=1\n2\n"}, ""},
		{"empty", "<!-- docs:x -->\n<!-- /docs:x -->\n", []string{"x="}, ""},
		{"two", "<!-- docs:x -->\n1\n<!-- /docs:x -->\n<!-- docs:y -->\n2\n<!-- /docs:y -->\n", []string{"x=1\n", "y=2\n"}, ""},
		{"none", "no blocks <!-- docs:x --> inside a line\n", nil, ""},
		{"unclosed", "<!-- docs:x -->\n1\n", nil, `block "x" is never closed`},
		{"nested", "<!-- docs:x -->\n<!-- docs:y -->\n<!-- /docs:y -->\n<!-- /docs:x -->\n", nil, `line 2: block "y" opens inside block "x"`},
		{"wrong close", "<!-- docs:x -->\n<!-- /docs:y -->\n", nil, `line 2: block "y" closes, but it is not open`},
	} {
		bs, err := blocks(c.text)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		var got []string
		for _, b := range bs {
			got = append(got, b.name+"="+c.text[b.start:b.end])
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: blocks %q, want %q", c.name, got, c.want)
		}
	}
}

// The pages quote what `make docs` recorded, number for number.
func TestPagesMatchRecorded(t *testing.T) {
	if err := Check(root); err != nil {
		t.Fatalf("%v\nrun `make docs` to rewrite the pages from the recorded runs", err)
	}
	// Every recorded file is quoted somewhere, and every block is known.
	seen := map[string]bool{}
	pages, err := Pages(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		data, _ := os.ReadFile(p)
		bs, err := blocks(string(data))
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			seen[b.name] = true
		}
	}
	for _, name := range []string{"headline", "metrics", "small-run", "score", "dag"} {
		if !seen[name] {
			t.Errorf("no page has the block %q", name)
		}
	}
}

// copyTree copies the pages and the recorded files of root into a new
// directory and returns it.
func copyTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	pages, err := Pages(root)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, GeneratedDir, "*"))
	for _, src := range append(pages, files...) {
		rel, _ := filepath.Rel(root, src)
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A number edited by hand, and a recording whose pages were not
// rewritten, both fail Check, naming the page and block; Write mends both.
func TestCheckCatchesEdits(t *testing.T) {
	for _, c := range []struct {
		name        string
		file        string
		old, new    string
		page, block string
	}{
		{"headline by hand", "README.md", "roc_auc **0.", "roc_auc **1.", "README.md", "headline"},
		{"metrics table by hand", "docs/python.md", "| `roc_auc` | 0.", "| `roc_auc` | 1.", "python.md", "metrics"},
		{"small run by hand", "README.md", "roc_auc = 0.", "roc_auc = 1.", "README.md", "small-run"},
		{"score table by hand", "docs/scoring.md", "batch.npy[0]  ", "batch.npy[9]  ", "scoring.md", "score"},
		{"a new recording", filepath.Join(GeneratedDir, MetricsFile), `"roc_auc": 0.`, `"roc_auc": 1.`, "README.md", "headline"},
		{"a new small run", filepath.Join(GeneratedDir, SmallRunFile), "roc_auc = 0.", "roc_auc = 1.", "README.md", "small-run"},
		{"the stages by hand", "README.md", "train     ingest, triplets, split\n", "train     ingest\n", "README.md", "dag"},
		{"a seed's scores by hand", "docs/quality.md", "| 42 | 0.", "| 42 | 1.", "quality.md", "quality-seeds"},
		{"a scale row by hand", "docs/data-flow.md", "| **folder ingest", "| **Folder ingest", "data-flow.md", "bench-scale"},
	} {
		dir := copyTree(t)
		if err := Check(dir); err != nil {
			t.Fatalf("%s: the copy does not check before the edit: %v", c.name, err)
		}
		edit(t, filepath.Join(dir, c.file), c.old, c.new)
		err := Check(dir)
		if err == nil || !strings.Contains(err.Error(), c.page+": block "+c.block+" differs") {
			t.Errorf("%s: Check = %v, want it to name %s's block %s", c.name, err, c.page, c.block)
			continue
		}
		if err := Write(dir); err != nil {
			t.Fatal(err)
		}
		if err := Check(dir); err != nil {
			t.Errorf("%s: after Write: %v", c.name, err)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Render("headline", dir); err == nil || !strings.Contains(err.Error(), "make docs") {
		t.Errorf("nothing recorded: %v", err)
	}
	if _, err := Render("nope", dir); err == nil {
		t.Error("unknown block: no error")
	}
	os.WriteFile(filepath.Join(dir, BuildFile), []byte("pure-Go build\n"), 0o644)
	os.WriteFile(filepath.Join(dir, MetricsFile), []byte(`{"roc_auc": 0.9}`), 0o644)
	if _, err := Render("headline", dir); err == nil || !strings.Contains(err.Error(), "binary_accuracy") {
		t.Errorf("a metric missing: %v", err)
	}
	full := `{"binary_accuracy": 0.8, "roc_auc": 0.9, "pr_auc": 0.9, "best_accuracy": 0.9, "best_threshold": 0.5,
	"knn_accuracy_k1": 0.8, "knn_accuracy_k5": 0.8, "precision_at_1": 0.8, "map_at_r": 0.6,
	"anomaly_auroc_mean_embedding": 0.9, "anomaly_auroc_mean_image": 0.9, "test_triplets": 1500,
	"reference_images": 10, "query_images": 10, "new_metric": 0.5}`
	os.WriteFile(filepath.Join(dir, MetricsFile), []byte(full), 0o644)
	if _, err := Render("metrics", dir); err == nil || !strings.Contains(err.Error(), "new_metric") {
		t.Errorf("a metric the table does not list: %v", err)
	}
}

func TestDag(t *testing.T) {
	out := "STAGE     DEPS            OUTS\ningest    -               ingest/images.npy, ingest/labels.npy\ntriplets  ingest          triplets/triplets.arrow\n"
	got, err := Dag(out)
	if want := "STAGE     DEPS\ningest    -\ntriplets  ingest\n"; err != nil || got != want {
		t.Errorf("Dag = %q, %v; want %q", got, err, want)
	}
	if _, err := Dag("something else\n"); err == nil {
		t.Error("not a dag table: no error")
	}
}
