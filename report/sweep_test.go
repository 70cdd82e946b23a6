package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteSweep(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "p.png")
	// A 1×1 PNG.
	if err := os.WriteFile(png, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := Sweep{Name: "lr<x>", Summary: "sweep lr: 2 variants", VariantHead: []string{"variant", "train.lr"},
		Variants: [][]string{{"aa", "1e-3"}, {"bb", "2e-3"}}, GroupHead: []string{"best", "train.lr", "n"},
		Groups: [][]string{{"", "1e-3", "1"}, {"*", "2e-3", "1"}}, Best: 1, Plot: &Image{Title: "val_loss", Path: png}}
	path := filepath.Join(dir, "report.html")
	if err := WriteSweep(path, s); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	html := string(data)
	for _, want := range []string{"Sweep <code>lr&lt;x&gt;</code>", `<tr class="best"><td>*</td><td>2e-3</td>`, "<td>bb</td>", "data:image/png;base64,", "default-src 'none'"} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Count(html, `class="best"`) != 1 {
		t.Error("more than one best row")
	}
}
