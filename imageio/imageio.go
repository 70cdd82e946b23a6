// Package imageio turns image files (PNG, JPEG) into what the pipeline
// works on: one grayscale uint8 image of size×size pixels, row-major.
// The ingest stage's folder datasets and `siamese score` both read images
// through it, so an image is prepared the same way for training and for
// scoring.
package imageio

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // registers JPEG
	_ "image/png"  // registers PNG
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/image/draw"
)

// MaxPixels bounds the pixels an image may declare. A larger one is
// refused from its header, before any pixel memory is allocated, so a
// small file claiming to be huge (an image bomb) costs nothing.
const MaxPixels = 1 << 26 // 64 Mpx: 256 MiB as 32-bit RGBA

// MaxFileBytes bounds the size of an image file read whole.
const MaxFileBytes = 256 << 20

// Filters are the resampling filters Resize accepts, by name.
var Filters = map[string]draw.Interpolator{
	"nearest":         draw.NearestNeighbor,
	"approx-bilinear": draw.ApproxBiLinear,
	"bilinear":        draw.BiLinear, // Keras's image_dataset_from_directory default
	"catmull-rom":     draw.CatmullRom,
}

// FilterNames lists the filter names, sorted.
func FilterNames() []string {
	names := make([]string, 0, len(Filters))
	for n := range Filters {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Exts are the file extensions (lower case) of the images read.
var Exts = []string{".png", ".jpg", ".jpeg"}

// IsImage reports whether a file name has one of Exts, in any case.
func IsImage(name string) bool {
	return slices.Contains(Exts, strings.ToLower(filepath.Ext(name)))
}

// ErrTooLarge is returned for an image that declares more than MaxPixels.
var ErrTooLarge = errors.New("image too large")

// Decode reads a PNG or JPEG image and returns it as size×size grayscale
// pixels, resized with filter (a key of Filters) unless it already has
// that size. Color is converted to luma (ITU-R BT.601, as image/color's
// GrayModel); transparent pixels count as black.
func Decode(data []byte, size int, filter string) ([]uint8, error) {
	interp, ok := Filters[filter]
	if !ok {
		return nil, fmt.Errorf("unknown filter %q (want one of %s)", filter, strings.Join(FilterNames(), ", "))
	}
	if size < 1 {
		return nil, fmt.Errorf("size %d: want at least 1", size)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not a PNG or JPEG image: %w", err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, fmt.Errorf("%s of %d×%d pixels: %w (at most %d pixels)", format, cfg.Width, cfg.Height, ErrTooLarge, MaxPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", format, err)
	}
	return toGray(img, size, interp), nil
}

// Load reads the image file at path with Decode.
func Load(path string, size int, filter string) ([]uint8, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	px, err := Decode(data, size, filter)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return px, nil
}

// ReadFile reads an image file's bytes for Decode, refusing a file of more
// than MaxFileBytes.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%s: file larger than %d bytes", path, MaxFileBytes)
	}
	return data, nil
}

// toGray converts img to grayscale and resizes it to size×size.
func toGray(img image.Image, size int, interp draw.Interpolator) []uint8 {
	b := img.Bounds()
	gray, ok := img.(*image.Gray)
	if !ok {
		gray = image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				gray.SetGray(x-b.Min.X, y-b.Min.Y, color.GrayModel.Convert(img.At(x, y)).(color.Gray))
			}
		}
		b = gray.Bounds()
	}
	out := image.NewGray(image.Rect(0, 0, size, size))
	if b.Dx() == size && b.Dy() == size {
		draw.Copy(out, image.Point{}, gray, b, draw.Src, nil)
	} else {
		interp.Scale(out, out.Bounds(), gray, b, draw.Src, nil)
	}
	return out.Pix
}
