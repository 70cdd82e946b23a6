package evaluate

import (
	"context"
	"math"
	"runtime"
	"testing"

	"github.com/siamese-pipeline/siamese/model"
)

// TestEmbedImagesBlocks checks embedImages on many small blocks, taken by
// one to three goroutines, against model.Embed of every image at once and
// the class sums in row order, bit for bit.
func TestEmbedImagesBlocks(t *testing.T) {
	_, w, data := loaded(t)
	n := len(data.labels)
	rows := make([]int, 0, n)
	for i := n - 1; i >= 0; i -= 2 { // not in order, not all
		rows = append(rows, i)
	}
	side, dim := w.InputDim(), w.OutputDim()
	x := make([]float32, len(rows)*side)
	sums := map[int][]float32{}
	for i, r := range rows {
		data.image(int64(r), x[i*side:(i+1)*side])
		l := int(data.labels[r])
		if sums[l] == nil {
			sums[l] = make([]float32, side)
		}
		for j := range side {
			sums[l][j] += x[i*side+j]
		}
	}
	want := model.Embed(w, x, len(rows))

	defer func(b int) { embedRows = b }(embedRows)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tc := range []struct{ procs, block int }{{1, 7}, {2, 7}, {3, 7}, {2, 1024}, {3, 50}} {
		runtime.GOMAXPROCS(tc.procs)
		embedRows = tc.block
		emb, labels, means, err := embedImages(context.Background(), w, data, rows)
		if err != nil {
			t.Fatal(err)
		}
		for i := range emb {
			if math.Float32bits(emb[i]) != math.Float32bits(want[i]) {
				t.Fatalf("GOMAXPROCS %d, blocks of %d: embedding %d[%d] = %v, want %v", tc.procs, tc.block, i/dim, i%dim, emb[i], want[i])
			}
		}
		for i, r := range rows {
			if labels[i] != int(data.labels[r]) {
				t.Fatalf("label %d = %d, want %d", i, labels[i], data.labels[r])
			}
		}
		for l, s := range sums {
			count := 0
			for _, r := range rows {
				if int(data.labels[r]) == l {
					count++
				}
			}
			for j := range side {
				if got, want := means[l][j], s[j]/float32(count); math.Float32bits(got) != math.Float32bits(want) {
					t.Fatalf("class %d pixel %d: mean %v, want %v", l, j, got, want)
				}
			}
		}
	}
}
