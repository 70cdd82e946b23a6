package artifacts

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func testNet() ([]Conv, []Dense) {
	conv := []Conv{
		{Height: 5, Width: 4, In: 1, Out: 2, W: make([]float32, 9*2), B: []float32{0.1, 0.2}},
		{Height: 2, Width: 2, In: 2, Out: 3, W: make([]float32, 9*2*3), B: []float32{1, 2, 3}},
	}
	for i := range conv[1].W {
		conv[1].W[i] = float32(i)
	}
	dense := []Dense{{In: 3, Out: 2, W: []float32{1, 2, 3, 4, 5, 6}, B: []float32{0, 1}, Activation: "linear"}}
	return conv, dense
}

func TestNetRoundTrip(t *testing.T) {
	dir := t.TempDir()
	conv, dense := testNet()
	if err := WriteNet(dir, conv, dense, map[string]any{"arch": "cnn"}); err != nil {
		t.Fatal(err)
	}
	gotConv, gotDense, m, err := ReadNet(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Input != 20 || !slices.Equal(m.Image, []int{5, 4}) || m.Embedding != 2 || len(m.Conv) != 2 {
		t.Fatalf("manifest %+v", m)
	}
	for i := range conv {
		g := gotConv[i]
		if g.Height != conv[i].Height || g.Width != conv[i].Width || g.In != conv[i].In || g.Out != conv[i].Out ||
			!slices.Equal(g.W, conv[i].W) || !slices.Equal(g.B, conv[i].B) {
			t.Errorf("conv %d: %+v", i, g)
		}
	}
	if _, shape, err := ReadNPY[float32](filepath.Join(dir, "C1.npy")); err != nil || !slices.Equal(shape, []int{3, 3, 2, 3}) {
		t.Errorf("C1.npy: shape %v, %v", shape, err)
	}
	if len(gotDense) != 1 || !slices.Equal(gotDense[0].W, dense[0].W) {
		t.Errorf("dense %+v", gotDense)
	}
	if _, _, err := ReadMLP(dir); err == nil || !strings.Contains(err.Error(), "convolutional") {
		t.Errorf("ReadMLP of a CNN: %v", err)
	}
}

// An MLP's model.json names neither an image nor conv blocks.
func TestMLPManifestHasNoConv(t *testing.T) {
	dir := t.TempDir()
	_, dense := testNet()
	if err := WriteMLP(dir, dense, nil); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "conv") || strings.Contains(string(data), "image") {
		t.Fatalf("model.json:\n%s", data)
	}
}

func TestReadNetErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"no image", func(m map[string]any) { delete(m, "image") }, "without an image"},
		{"wrong image", func(m map[string]any) { m["image"] = []int{6, 4} }, "takes 5x4x1"},
		{"kernel 5", func(m map[string]any) { conv(m, 0)["kernel"] = 5 }, "kernel 5"},
		{"chain broken", func(m map[string]any) { conv(m, 1)["in"] = 4 }, "conv block 1"},
		{"escaping file", func(m map[string]any) { conv(m, 0)["weights"] = "../C0.npy" }, "outside"},
		{"dense does not fit", func(m map[string]any) { m["conv"] = m["conv"].([]any)[:1] }, "give 8 values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			conv, dense := testNet()
			if err := WriteNet(dir, conv, dense, nil); err != nil {
				t.Fatal(err)
			}
			name := filepath.Join(dir, "model.json")
			data, _ := os.ReadFile(name)
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			tc.edit(m)
			data, _ = json.Marshal(m)
			os.WriteFile(name, data, 0o644)
			if _, _, _, err := ReadNet(dir); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func conv(m map[string]any, i int) map[string]any { return m["conv"].([]any)[i].(map[string]any) }
