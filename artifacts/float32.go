package artifacts

import (
	"fmt"
	"runtime"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// ReadNPYFloat32 reads a float32 or float64 .npy file as float32, a chunk
// at a time (in parallel), so a float64 file never stands in memory twice.
func ReadNPYFloat32(path string) (data []float32, shape []int, err error) {
	f, err := OpenNPY(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	shape = f.Shape()
	switch f.DType() {
	case "float32":
		data = make([]float32, f.Len())
		return data, shape, ReadNPYAt(f, data, 0)
	case "float64":
		data = make([]float32, f.Len())
		return data, shape, readFloat64As32(f, data)
	}
	return nil, nil, fmt.Errorf("read %s: dtype is %s, want float32 or float64", path, f.DType())
}

// float64Chunk is how many float64 values one reader converts at a time.
const float64Chunk = 1 << 17

// readFloat64As32 reads f's float64 elements into data, rounded to float32,
// in chunks spread over GOMAXPROCS goroutines (each reads its chunks with
// ReadAt and converts them).
func readFloat64As32(f *NPYFile, data []float32) error {
	n := int64(len(data))
	chunks := (n + float64Chunk - 1) / float64Chunk
	var next atomic.Int64
	var g errgroup.Group
	for range min(int64(runtime.GOMAXPROCS(0)), chunks) {
		g.Go(func() error {
			buf := make([]float64, float64Chunk)
			for c := next.Add(1) - 1; c < chunks; c = next.Add(1) - 1 {
				off := c * float64Chunk
				chunk := buf[:min(float64Chunk, n-off)]
				if err := ReadNPYAt(f, chunk, off); err != nil {
					return err
				}
				dst := data[off : off+int64(len(chunk))]
				for i, v := range chunk {
					dst[i] = float32(v)
				}
			}
			return nil
		})
	}
	return g.Wait()
}
