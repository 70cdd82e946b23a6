// Package pngtest reads the PNG files that tests check: a plot, a picture,
// a screenshot.
package pngtest

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"testing"
)

// Decode reads the PNG file at path, failing t if it cannot.
func Decode(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// Is reports whether c is want, alpha aside, to 8 bits a channel.
func Is(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	return uint8(r>>8) == want.R && uint8(g>>8) == want.G && uint8(b>>8) == want.B
}

// Count counts the pixels of img that are want.
func Count(img image.Image, want color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if Is(img.At(x, y), want) {
				n++
			}
		}
	}
	return n
}
