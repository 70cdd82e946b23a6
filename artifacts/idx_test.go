package artifacts

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"strings"
	"testing"
)

// idxFile builds an IDX file of unsigned bytes with the given magic.
func idxFile(magic uint32, dims []uint32, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestReadIDX(t *testing.T) {
	pixels := make([]byte, 3*2*4)
	for i := range pixels {
		pixels[i] = byte(i * 10)
	}
	images := idxFile(idxImagesMagic, []uint32{3, 2, 4}, pixels)
	labels := idxFile(idxLabelsMagic, []uint32{3}, []byte{9, 0, 4})
	for _, compressed := range []bool{false, true} {
		img, lab, name := images, labels, "plain"
		if compressed {
			img, lab, name = gz(images), gz(labels), "gzip"
		}
		t.Run(name, func(t *testing.T) {
			ip, lp := writeFile(t, "images-idx3-ubyte", img), writeFile(t, "labels-idx1-ubyte", lab)
			data, n, rows, cols, err := ReadIDXImages(ip)
			if err != nil || n != 3 || rows != 2 || cols != 4 || !bytes.Equal(data, pixels) {
				t.Errorf("ReadIDXImages: %v %d %d %d %v", data, n, rows, cols, err)
			}
			l, err := ReadIDXLabels(lp)
			if err != nil || !bytes.Equal(l, []byte{9, 0, 4}) {
				t.Errorf("ReadIDXLabels: %v %v", l, err)
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		data, n, rows, cols, err := ReadIDXImages(writeFile(t, "e", idxFile(idxImagesMagic, []uint32{0, 28, 28}, nil)))
		if err != nil || n != 0 || rows != 28 || cols != 28 || len(data) != 0 {
			t.Errorf("got %v %d %d %d %v", data, n, rows, cols, err)
		}
	})
}

func TestReadIDXErrors(t *testing.T) {
	images := idxFile(idxImagesMagic, []uint32{2, 2, 2}, make([]byte, 8))
	labels := idxFile(idxLabelsMagic, []uint32{3}, []byte{1, 2, 3})
	zimages := gz(images)
	for _, tc := range []struct {
		name   string
		file   []byte
		images bool // read with ReadIDXImages, else ReadIDXLabels
		want   string
	}{
		{"empty", nil, true, "magic"},
		{"short magic", []byte{0, 0, 8}, false, "magic"},
		{"wrong magic", idxFile(0x12345678, []uint32{3}, []byte{1, 2, 3}), false, "not an IDX file"},
		{"float elements", idxFile(0x00000d01, []uint32{1}, make([]byte, 4)), false, "not an IDX file"},
		{"labels read as images", labels, true, "1 dimensions, want 3"},
		{"images read as labels", images, false, "3 dimensions, want 1"},
		{"wrong dimensions", idxFile(0x00000802, []uint32{2, 4}, make([]byte, 8)), true, "2 dimensions, want 3"},
		{"truncated dims", images[:10], true, "dimensions"},
		{"truncated data", images[:len(images)-1], true, "truncated"},
		{"trailing bytes", append(append([]byte{}, labels...), 0), false, "unexpected bytes"},
		{"too large", idxFile(idxImagesMagic, []uint32{1 << 31, 1 << 31, 1 << 31}, nil), true, "more than"},
		{"truncated gzip", zimages[:len(zimages)-5], true, "unexpected EOF"},
		{"truncated gzip header", zimages[:5], true, "gzip"},
		{"corrupt gzip checksum", append(append([]byte{}, zimages[:len(zimages)-8]...), 0, 0, 0, 0, 16, 0, 0, 0), true, "checksum"},
		{"gzip bomb", gz(idxFile(idxImagesMagic, []uint32{1 << 16, 1 << 8, 1 << 8}, nil)), true, "more than a gzip file of"},
		{"plain bomb", idxFile(idxImagesMagic, []uint32{1 << 16, 1 << 8, 1 << 8}, nil), true, "truncated: dimensions [65536 256 256] need 4294967296 data bytes, the file holds 0"},
		{"gzip trailing bytes", gz(append(append([]byte{}, images...), 7)), true, "unexpected bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "bad-idx", tc.file)
			var err error
			if tc.images {
				_, _, _, _, err = ReadIDXImages(path)
			} else {
				_, err = ReadIDXLabels(path)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("got error %v, want one naming the file and containing %q", err, tc.want)
			}
		})
	}
}

func FuzzReadIDX(f *testing.F) {
	images := idxFile(idxImagesMagic, []uint32{2, 2, 2}, make([]byte, 8))
	labels := idxFile(idxLabelsMagic, []uint32{3}, []byte{1, 2, 3})
	f.Add(images)
	f.Add(labels)
	f.Add(gz(images))
	f.Add(gz(labels)[:20])
	f.Add(idxFile(idxImagesMagic, []uint32{1 << 20, 1 << 10, 1 << 10}, nil))
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte("\x00\x00\b\x03\xc401A\xc40200000")) // once overflowed the size check
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, ndim := range []int{1, 3} {
			dims, data, err := decodeIDX(bytes.NewReader(b), ndim)
			if err != nil {
				continue
			}
			n := 1
			for _, d := range dims {
				n *= d
			}
			if len(dims) != ndim || len(data) != n {
				t.Errorf("dims %v with %d data bytes", dims, len(data))
			}
		}
	})
}
