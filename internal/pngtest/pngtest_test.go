package pngtest

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestDecodeAndCount(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	purple := color.RGBA{148, 103, 189, 255}
	img.Set(1, 1, purple)
	img.Set(2, 1, purple)
	img.Set(3, 2, color.RGBA{148, 103, 188, 255})
	path := filepath.Join(t.TempDir(), "a.png")
	f, _ := os.Create(path)
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got := Decode(t, path)
	if got.Bounds() != img.Bounds() {
		t.Errorf("bounds %v", got.Bounds())
	}
	if n := Count(got, purple); n != 2 {
		t.Errorf("%d purple pixels, want 2", n)
	}
}
