package artifacts

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMLPRoundTrip(t *testing.T) {
	dir := t.TempDir()
	layers := []Dense{
		{In: 3, Out: 2, W: []float32{1, 2, 3, 4, 5, 6}, B: []float32{0.5, -0.5}, Activation: "relu"},
		{In: 2, Out: 1, W: []float32{7, 8}, B: []float32{0}, Activation: "linear"},
	}
	if err := WriteMLP(dir, layers, map[string]any{"margin": 0.4}); err != nil {
		t.Fatal(err)
	}
	got, m, err := ReadMLP(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Input != 3 || m.Embedding != 1 || len(got) != 2 || m.Extra["margin"] != 0.4 {
		t.Fatalf("manifest %+v", m)
	}
	for i := range layers {
		if !slices.Equal(got[i].W, layers[i].W) || !slices.Equal(got[i].B, layers[i].B) || got[i].Activation != layers[i].Activation {
			t.Errorf("layer %d: %+v", i, got[i])
		}
	}
}

func TestReadMLPErrors(t *testing.T) {
	tests := []struct {
		name, manifest, want string
	}{
		{"not json", "{", "model.json"},
		{"no layers", `{"layers": []}`, "no layers"},
		{"escaping file", `{"layers": [{"weights": "../W0.npy", "bias": "b0.npy", "in": 3, "out": 2}]}`, "outside"},
		{"missing file", `{"layers": [{"weights": "W9.npy", "bias": "b0.npy", "in": 3, "out": 2}]}`, "W9.npy"},
		{"wrong shape", `{"layers": [{"weights": "W0.npy", "bias": "b0.npy", "in": 4, "out": 2}]}`, "do not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			WriteNPY(filepath.Join(dir, "W0.npy"), make([]float32, 6), 3, 2)
			WriteNPY(filepath.Join(dir, "b0.npy"), make([]float32, 2), 2)
			os.WriteFile(filepath.Join(dir, "model.json"), []byte(tt.manifest), 0o644)
			_, _, err := ReadMLP(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}
