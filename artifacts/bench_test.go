package artifacts

import (
	"path/filepath"
	"testing"
)

// The benchmark array: 8359×784 float64, 52 MB.
const benchRows, benchCols = 8359, 784

func benchData() []float64 { return seq[float64](benchRows * benchCols) }

func BenchmarkWriteNPY(b *testing.B) {
	data := benchData()
	path := filepath.Join(b.TempDir(), "w.npy")
	b.SetBytes(int64(len(data) * 8))
	for b.Loop() {
		if err := WriteNPY(path, data, benchRows, benchCols); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNPYWriterRows streams the array one row at a time.
func BenchmarkNPYWriterRows(b *testing.B) {
	data := benchData()
	path := filepath.Join(b.TempDir(), "w.npy")
	b.SetBytes(int64(len(data) * 8))
	for b.Loop() {
		w, err := CreateNPY[float64](path, benchRows, benchCols)
		if err != nil {
			b.Fatal(err)
		}
		for r := 0; r < benchRows; r++ {
			w.Write(data[r*benchCols : (r+1)*benchCols])
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadNPY(b *testing.B) {
	data := benchData()
	path := filepath.Join(b.TempDir(), "r.npy")
	if err := WriteNPY(path, data, benchRows, benchCols); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data) * 8))
	for b.Loop() {
		if _, _, err := ReadNPY[float64](path); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadNPYAtRows gathers rows in a scattered order.
func BenchmarkReadNPYAtRows(b *testing.B) {
	path := filepath.Join(b.TempDir(), "r.npy")
	if err := WriteNPY(path, benchData(), benchRows, benchCols); err != nil {
		b.Fatal(err)
	}
	f, err := OpenNPY(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	row := make([]float64, benchCols)
	b.SetBytes(benchCols * 8)
	i := 0
	for b.Loop() {
		i = (i + 4099) % benchRows
		if err := ReadNPYAt(f, row, int64(i*benchCols)); err != nil {
			b.Fatal(err)
		}
	}
}
