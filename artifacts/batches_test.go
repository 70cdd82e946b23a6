package artifacts

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
)

func TestWriteBatches(t *testing.T) {
	tests := []struct {
		name    string
		n, size int
		total   int // elements
	}{
		{"none", 0, 4, 0},
		{"one partial", 1, 4, 3},
		{"many, last partial", 7, 4, 26},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.npy")
			w, err := CreateNPY[int32](path, tt.total)
			if err != nil {
				t.Fatal(err)
			}
			err = WriteBatches(context.Background(), w, tt.n, tt.size, func(i int, buf []int32) ([]int32, error) {
				k := min(tt.size, tt.total-i*tt.size)
				for j := range k {
					buf[j] = int32(i*tt.size + j)
				}
				return buf[:k], nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, _, err := ReadNPY[int32](path)
			want := make([]int32, tt.total)
			for i := range want {
				want[i] = int32(i)
			}
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("got %v, %v", got, err)
			}
		})
	}
}

func TestWriteBatchesStops(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.npy")
	w, err := CreateNPY[int32](path, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	boom := errors.New("boom")
	err = WriteBatches(context.Background(), w, 10, 10, func(i int, buf []int32) ([]int32, error) {
		if i == 3 {
			return nil, boom
		}
		return buf, nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("fill's error: got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w2, _ := CreateNPY[int32](filepath.Join(t.TempDir(), "y.npy"), 100)
	defer w2.Close()
	if err := WriteBatches(ctx, w2, 10, 10, func(i int, buf []int32) ([]int32, error) { return buf, nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}
}
