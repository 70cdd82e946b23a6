package notebook

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/runner"
	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

// fixture writes n images of rows×cols pixels, nt triplets of them and a
// split of the triplets into train and test rows.
func fixture(t *testing.T, dir string, n, rows, cols, nt int, test []int64) (images []uint8, idx [3][]int64, train []int64) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(n), 3))
	images = make([]uint8, n*rows*cols)
	for i := range images {
		images[i] = uint8(r.UintN(256))
	}
	for k := range idx {
		idx[k] = make([]int64, nt)
		for i := range idx[k] {
			idx[k][i] = int64(r.IntN(n))
		}
	}
	for i := range int64(nt) {
		if !slices.Contains(test, i) {
			train = append(train, i)
		}
	}
	id := make([]int64, nt)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(artifacts.WriteNPY(filepath.Join(dir, InImages), images, n, rows, cols))
	must(artifacts.WriteArrow(filepath.Join(dir, InIndex), artifacts.NewColumns().Int64("id", id).Int64("class", id).
		Int64("anchor", idx[0]).Int64("positive", idx[1]).Int64("negative", idx[2])))
	must(artifacts.WriteNPY(filepath.Join(dir, InTrainRows), train, len(train)))
	must(artifacts.WriteNPY(filepath.Join(dir, InTestRows), test, len(test)))
	return images, idx, train
}

func runStage(ctx context.Context, t *testing.T, dir string) error {
	t.Helper()
	s := New()
	in, out := map[string]string{}, map[string]string{}
	for _, n := range s.Spec().Inputs {
		in[n] = filepath.Join(dir, n)
	}
	for _, n := range s.Spec().Outputs {
		out[n] = filepath.Join(dir, n)
	}
	return s.Run(ctx, runner.NewEnv("notebook", stagetest.Params(s, nil), in, out, t.TempDir(), nil))
}

// TestArrays: on images of 5×3 pixels, in batches of one triplet, a few,
// and all, every array holds the triplets' images at the right rows: the
// uint8 array in the images' shape, the others flat and scaled by 1/255.
func TestArrays(t *testing.T) {
	defer func(b int) { batchBytes = b }(batchBytes)
	const n, rows, cols, nt = 30, 5, 3, 23
	test := []int64{4, 17, 0}
	for _, batch := range []int{1, 8 * 3 * rows * cols * 4, 8 << 20} {
		batchBytes = batch
		dir := t.TempDir()
		images, idx, train := fixture(t, dir, n, rows, cols, nt, test)
		if err := runStage(context.Background(), t, dir); err != nil {
			t.Fatal(err)
		}
		const px = rows * cols
		arr, shape, err := artifacts.ReadNPY[uint8](filepath.Join(dir, OutArray))
		if err != nil || !slices.Equal(shape, []int{nt, 3, rows, cols}) {
			t.Fatalf("batch %d: array shape %v, %v", batch, shape, err)
		}
		for i := range nt {
			for k := range 3 {
				img := idx[k][i]
				if !slices.Equal(arr[(3*i+k)*px:(3*i+k+1)*px], images[img*px:(img+1)*px]) {
					t.Fatalf("batch %d: array triplet %d image %d is not row %d", batch, i, k, img)
				}
			}
		}
		for _, c := range []struct {
			name string
			rows []int64
		}{{OutFlat, nil}, {OutXTrain, train}, {OutXTest, test}} {
			x, shape, err := artifacts.ReadNPY[float64](filepath.Join(dir, c.name))
			if c.rows == nil {
				c.rows = make([]int64, nt)
				for i := range c.rows {
					c.rows[i] = int64(i)
				}
			}
			if err != nil || !slices.Equal(shape, []int{len(c.rows), 3, px}) {
				t.Fatalf("batch %d: %s shape %v, %v", batch, c.name, shape, err)
			}
			for s, r := range c.rows {
				for k := range 3 {
					img := idx[k][r]
					for j := range px {
						if got, want := x[(3*s+k)*px+j], float64(images[int(img)*px+j])/255; got != want {
							t.Fatalf("batch %d: %s[%d,%d,%d] = %v, want %v", batch, c.name, s, k, j, got, want)
						}
					}
				}
			}
		}
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name string
		prep func(dir string) error
		want string
	}{
		{"image past the end", func(dir string) error {
			bad := []int64{0, 99}
			return artifacts.WriteArrow(filepath.Join(dir, InIndex), artifacts.NewColumns().Int64("id", bad).Int64("class", bad).
				Int64("anchor", bad).Int64("positive", bad).Int64("negative", bad))
		}, "image 99"},
		{"row past the end", func(dir string) error {
			return artifacts.WriteNPY(filepath.Join(dir, InTestRows), []int64{50}, 1)
		}, "triplet 50"},
		{"images not an array of images", func(dir string) error {
			return artifacts.WriteNPY(filepath.Join(dir, InImages), []uint8{}, 0)
		}, InImages},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			fixture(t, dir, 10, 2, 2, 6, []int64{1})
			if err := c.prep(dir); err != nil {
				t.Fatal(err)
			}
			err := runStage(context.Background(), t, dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one about %q", err, c.want)
			}
			if _, err := os.Stat(filepath.Join(dir, OutXTest)); err == nil {
				t.Error("X_test written despite the error")
			}
		})
	}
}

func TestCancel(t *testing.T) {
	dir := t.TempDir()
	fixture(t, dir, 10, 28, 28, 2000, []int64{1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := runStage(ctx, t, dir); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}
