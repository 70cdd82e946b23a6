package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecode(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 4, 4))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 16)
	}
	rgb := image.NewRGBA(image.Rect(0, 0, 2, 2))
	rgb.Set(0, 0, color.RGBA{255, 0, 0, 255})
	rgb.Set(1, 0, color.RGBA{0, 255, 0, 255})
	rgb.Set(0, 1, color.RGBA{0, 0, 255, 255})
	rgb.Set(1, 1, color.RGBA{255, 255, 255, 0}) // transparent: black
	big := image.NewGray(image.Rect(0, 0, 56, 56))
	for i := range big.Pix {
		big.Pix[i] = 200
	}
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, big, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		data   []byte
		size   int
		filter string
		want   []uint8 // nil: only check the length
		err    string
	}{
		{name: "gray at size is copied", data: encodePNG(t, gray), size: 4, filter: "bilinear", want: gray.Pix},
		{name: "color to luma", data: encodePNG(t, rgb), size: 2, filter: "nearest", want: []uint8{76, 150, 29, 0}},
		{name: "uniform image resized stays uniform", data: encodePNG(t, big), size: 28, filter: "catmull-rom", want: bytes.Repeat([]byte{200}, 28*28)},
		{name: "jpeg", data: jpg.Bytes(), size: 28, filter: "approx-bilinear"},
		{name: "nearest downscale", data: encodePNG(t, gray), size: 2, filter: "nearest"},
		{name: "not an image", data: []byte("hello"), size: 28, filter: "bilinear", err: "not a PNG or JPEG image"},
		{name: "truncated png", data: encodePNG(t, big)[:60], size: 28, filter: "bilinear", err: "png"},
		{name: "unknown filter", data: encodePNG(t, gray), size: 28, filter: "lanczos", err: `unknown filter "lanczos"`},
		{name: "bad size", data: encodePNG(t, gray), size: 0, filter: "bilinear", err: "size 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.data, tt.size, tt.filter)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.size*tt.size {
				t.Fatalf("%d pixels, want %d", len(got), tt.size*tt.size)
			}
			if tt.want != nil && !bytes.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// A PNG whose header declares a huge image is refused before decoding.
func TestDecodeBomb(t *testing.T) {
	data := encodePNG(t, image.NewGray(image.Rect(0, 0, 1, 1)))
	// IHDR's width and height are big-endian at bytes 16..24, its CRC
	// (over type and data, bytes 12..29) at 29..33.
	copy(data[16:24], []byte{0, 1, 0, 0, 0, 1, 0, 0}) // 65536 × 65536
	binary.BigEndian.PutUint32(data[29:33], crc32.ChecksumIEEE(data[12:29]))
	_, err := Decode(data, 28, "bilinear")
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

func TestLoadAndIsImage(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.PNG")
	if err := os.WriteFile(p, encodePNG(t, image.NewGray(image.Rect(0, 0, 3, 3))), 0o644); err != nil {
		t.Fatal(err)
	}
	if !IsImage(p) || IsImage("x.txt") || !IsImage("y.jpeg") {
		t.Error("IsImage")
	}
	px, err := Load(p, 3, "bilinear")
	if err != nil || len(px) != 9 {
		t.Fatalf("Load: %v, %d pixels", err, len(px))
	}
	if _, err := Load(filepath.Join(dir, "none.png"), 3, "bilinear"); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encodePNG(f, image.NewGray(image.Rect(0, 0, 5, 3))))
	f.Add(encodePNG(f, image.NewRGBA(image.Rect(0, 0, 2, 7))))
	var jpg bytes.Buffer
	_ = jpeg.Encode(&jpg, image.NewGray(image.Rect(0, 0, 9, 9)), nil)
	f.Add(jpg.Bytes())
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		px, err := Decode(data, 8, "bilinear")
		if err == nil && len(px) != 64 {
			t.Fatalf("%d pixels", len(px))
		}
	})
}
