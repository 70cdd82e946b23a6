package pictures

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/siamese-pipeline/siamese/stages/internal/stagetest"
)

func TestPicturesStage(t *testing.T) {
	d := stagetest.Write(t, 60, 5)
	env, out := stagetest.Env(t, New(), d.Inputs("images.npy", "labels.npy", "classes.txt", "triplets.arrow"), map[string]any{"class": 1})
	if err := New().Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"samples.png", "triplets.png"} {
		f, err := os.Open(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	env, _ = stagetest.Env(t, New(), d.Inputs("images.npy", "labels.npy", "classes.txt", "triplets.arrow"), map[string]any{"class": 7})
	if err := New().Run(context.Background(), env); err == nil {
		t.Error("drew samples of a class with no images")
	}
}
