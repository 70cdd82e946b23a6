package ingest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/pipeline"
)

// tree makes the files named (slash-separated, under dir), each empty;
// a name ending in "/" is a folder.
func tree(t *testing.T, dir string, names ...string) string {
	t.Helper()
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if strings.HasSuffix(n, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReadLayout(t *testing.T) {
	home, _ := os.UserHomeDir()
	tests := []struct {
		name    string
		files   []string
		source  string // under the test's folder; "" is the folder itself
		classes []string
		images  []int
		want    string // the error, if any
	}{
		{"classes", []string{"bolt/1.png", "bolt/2.PNG", "gear/a.jpg", "gear/night/b.jpeg", "nut/x.png", "notes.txt", ".hidden/y.png"}, "",
			[]string{"bolt", "gear", "nut"}, []int{2, 2, 1}, ""},
		{"one level too high", []string{"line/bolt/1.png", "line/nut/2.png", "incoming/3.png"}, "",
			nil, nil, "looks like the folder above a dataset: line/ holds bolt/, nut/, class folders one level down and no image of their own (is the source one level too high?"},
		{"one class", []string{"bolt/1.png"}, "", nil, nil, "holds 1 class folder(s) (bolt); want $DIR/<class>/*.png"},
		{"no class", []string{"1.png"}, "", nil, nil, "holds 0 class folder(s) ()"},
		{"an empty class", []string{"bolt/1.png", "nut/readme.txt"}, "", nil, nil, "class folder $DIR/nut holds no image (.png, .jpg, .jpeg)"},
		{"missing", []string{"line/bolt/1.png"}, "lin", nil, nil, "source $DIR/lin does not exist ($DIR holds line/)"},
		{"a file", []string{"f.png"}, "f.png", nil, nil, "source $DIR/f.png is a file, not a folder"},
		{"unexpanded ~", nil, "~/line", nil, nil, "source ~/line starts with a ~ that no shell expanded"},
	}
	for _, tt := range tests {
		dir := tree(t, t.TempDir(), tt.files...)
		src := filepath.Join(dir, tt.source)
		if strings.HasPrefix(tt.source, "~") {
			src = tt.source
		}
		l, err := ReadLayout(src)
		if tt.want != "" {
			want := strings.ReplaceAll(tt.want, "$DIR", dir)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, want %q", tt.name, err, want)
			}
			continue
		}
		if err != nil || !slices.Equal(l.Classes, tt.classes) || !slices.Equal(l.Images, tt.images) {
			t.Errorf("%s: %+v, %v; want classes %v, images %v", tt.name, l, err, tt.classes, tt.images)
		}
	}
	if _, err := ReadLayout("~/line"); home != "" && (err == nil || !strings.Contains(err.Error(), "such as "+home+"/line")) {
		t.Errorf("~/line: %v, want the full path suggested", err)
	}
}

func TestReadLayoutUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any folder")
	}
	dir := tree(t, t.TempDir(), "a/1.png", "b/2.png")
	os.Chmod(dir, 0)
	defer os.Chmod(dir, 0o755)
	if _, err := ReadLayout(dir); err == nil || !strings.Contains(err.Error(), "cannot be read") {
		t.Errorf("unreadable folder: %v", err)
	}
}

// The stage's preflight checks a folder's layout, and that another
// dataset's source folder is there; an empty source is the usual places.
func TestPreflight(t *testing.T) {
	dir := tree(t, t.TempDir(), "a/1.png", "b/2.png")
	above := tree(t, t.TempDir(), "line/a/1.png", "line/b/2.png", "incoming/3.png")
	params := func(dataset, source string) pipeline.Params {
		return pipeline.Params{"dataset": dataset, "source": source}
	}
	for _, tt := range []struct {
		p  pipeline.Params
		ok bool
	}{
		{params("folder", dir), true},
		{params("folder", filepath.Join(dir, "a")), false}, // images, no class folders
		{params("folder", above), false},
		{params("folder", filepath.Join(above, "line")), true},
		{params("folder", filepath.Join(dir, "nope")), false},
		{params("fashion", ""), true},
		{params("fashion", dir), true},
		{params("fashion", filepath.Join(dir, "nope")), false},
		{params("mnist", "~/data"), false},
	} {
		if err := preflight(tt.p); (err == nil) != tt.ok {
			t.Errorf("preflight(%v): %v, want ok %v", tt.p, err, tt.ok)
		}
	}
}
