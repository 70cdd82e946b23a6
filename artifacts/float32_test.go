package artifacts

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
)

// TestReadNPYFloat32 reads float32 and float64 files, the float64 one over
// several chunks (the last one partial), as float32.
func TestReadNPYFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 2*float64Chunk + 12345 - (2*float64Chunk+12345)%5
	x64 := make([]float64, n)
	want := make([]float32, n)
	for i := range x64 {
		x64[i] = r.NormFloat64()
		want[i] = float32(x64[i])
	}
	dir := t.TempDir()
	p64, p32 := filepath.Join(dir, "x64.npy"), filepath.Join(dir, "x32.npy")
	if err := WriteNPY(p64, x64, n/5, 5); err != nil {
		t.Fatal(err)
	}
	if err := WriteNPY(p32, want, n); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path  string
		shape []int
	}{{p64, []int{n / 5, 5}}, {p32, []int{n}}} {
		got, shape, err := ReadNPYFloat32(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(shape, c.shape) || !slices.Equal(got, want) {
			t.Errorf("%s: shape %v, values equal %v", filepath.Base(c.path), shape, slices.Equal(got, want))
		}
	}
	if err := WriteNPY(p64, []int32{1, 2}, 2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadNPYFloat32(p64); err == nil {
		t.Error("read an int32 file as float32")
	}
}
