package artifacts

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadArrow reads arbitrary bytes (from memory, as ReadArrow reads a
// file) as an Arrow IPC file, as the stages
// read triplets.arrow back: an error or a table, never a panic or an
// allocation the file cannot justify.
func FuzzReadArrow(f *testing.F) {
	dir := f.TempDir()
	for i, rows := range []int{0, 1, 5} {
		c, _ := sampleColumns(rows)
		name := filepath.Join(dir, "seed.arrow")
		if err := WriteArrow(name, c); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		if i == 2 {
			f.Add(b[:len(b)/2])
			f.Add(append(append([]byte{}, b[:len(b)-10]...), 0xff, 0xff, 0xff, 0x7f, 0, 0, 'A', 'R', 'R', 'O'))
		}
	}
	f.Add([]byte("ARROW1\x00\x00ARROW1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := readArrow("fuzzed.arrow", bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, n := range tab.Names() {
			_, _ = tab.Int64(n)
			_, _ = tab.String(n)
			_, _, _ = tab.FixedFloat32(n)
		}
	})
}
