package artifacts

import "fmt"

// ReadNPYFloat32 reads a float32 or float64 .npy file as float32, a chunk
// at a time, so a float64 file never stands in memory twice.
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
		buf := make([]float64, 1<<17)
		for off := int64(0); off < f.Len(); off += int64(len(buf)) {
			chunk := buf[:min(int64(len(buf)), f.Len()-off)]
			if err := ReadNPYAt(f, chunk, off); err != nil {
				return nil, nil, err
			}
			for i, v := range chunk {
				data[off+int64(i)] = float32(v)
			}
		}
		return data, shape, nil
	}
	return nil, nil, fmt.Errorf("read %s: dtype is %s, want float32 or float64", path, f.DType())
}
