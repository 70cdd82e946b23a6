package artifacts

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// IDX magic numbers: two zero bytes, the element type (0x08: unsigned
// byte) and the number of dimensions.
const (
	idxLabelsMagic = 2049 // 0x00000801
	idxImagesMagic = 2051 // 0x00000803
)

// maxIDXBytes bounds the data an IDX header may announce (4 GiB; all of
// Fashion-MNIST is 55 MB).
const maxIDXBytes = 1 << 32

// maxDeflateRatio is the most a deflate stream can expand: 258 bytes from
// two bits, about 1032:1.
const maxDeflateRatio = 1032

// ReadIDXImages reads an IDX image file (magic 2051, dims n×rows×cols),
// gzipped or plain. data holds the n images one after another, row-major.
func ReadIDXImages(path string) (data []uint8, n, rows, cols int, err error) {
	dims, data, err := readIDXFile(path, 3)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	return data, dims[0], dims[1], dims[2], nil
}

// ReadIDXLabels reads an IDX label file (magic 2049), gzipped or plain.
func ReadIDXLabels(path string) (labels []uint8, err error) {
	_, labels, err = readIDXFile(path, 1)
	return labels, err
}

func readIDXFile(path string, ndim int) ([]int, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	var r io.Reader = f
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		r = sizedReader{f, st.Size()}
	}
	dims, data, err := decodeIDX(r, ndim)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return dims, data, nil
}

// decodeIDX decodes an IDX stream of unsigned bytes with ndim dimensions,
// gunzipping it first if it starts with the gzip magic bytes.
func decodeIDX(r io.Reader, ndim int) (dims []int, data []byte, err error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", noEOF(err))
		}
		defer zr.Close()
		src = zr
	}
	want := uint32(idxLabelsMagic)
	if ndim == 3 {
		want = idxImagesMagic
	}
	var hdr [4]byte
	if _, err := io.ReadFull(src, hdr[:]); err != nil {
		return nil, nil, fmt.Errorf("reading IDX magic: %w", noEOF(err))
	}
	magic := binary.BigEndian.Uint32(hdr[:])
	if hdr[0] != 0 || hdr[1] != 0 || hdr[2] != 0x08 {
		return nil, nil, fmt.Errorf("magic %d (%#08x) is not an IDX file of unsigned bytes, want %d", magic, magic, want)
	}
	if int(hdr[3]) != ndim {
		return nil, nil, fmt.Errorf("magic %d: %d dimensions, want %d (magic %d)", magic, hdr[3], ndim, want)
	}
	dimBytes := make([]byte, 4*ndim)
	if _, err := io.ReadFull(src, dimBytes); err != nil {
		return nil, nil, fmt.Errorf("reading IDX dimensions: %w", noEOF(err))
	}
	dims = make([]int, ndim)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(dimBytes[4*i:]))
	}
	total := int64(1)
	for _, d := range dims {
		if d != 0 && total > maxIDXBytes/int64(d) {
			return nil, nil, fmt.Errorf("dimensions %v announce more than %d bytes", dims, int64(maxIDXBytes))
		}
		total *= int64(d)
	}
	// What the file can hold bounds what it may announce: its own size
	// when plain, the most deflate can expand it when gzipped.
	if sr, ok := r.(sizedReader); ok {
		if most := sr.size - int64(4+4*ndim); src == io.Reader(br) && total > most {
			return nil, nil, fmt.Errorf("truncated: dimensions %v need %d data bytes, the file holds %d", dims, total, max(most, 0))
		}
		if most := sr.size * maxDeflateRatio; total > most {
			return nil, nil, fmt.Errorf("dimensions %v announce %d data bytes, more than a gzip file of %d bytes can hold", dims, total, sr.size)
		}
	}
	// Read what is there, at most one byte beyond what the header
	// announces; allocate up front no more than a sane amount, so a
	// corrupt header cannot force a huge allocation.
	var buf bytes.Buffer
	buf.Grow(int(min(total+bytes.MinRead, 64<<20)))
	if _, err := buf.ReadFrom(io.LimitReader(src, total+1)); err != nil {
		return nil, nil, fmt.Errorf("after %d of %d data bytes: %w", buf.Len(), total, noEOF(err))
	}
	switch got := int64(buf.Len()); {
	case got < total:
		return nil, nil, fmt.Errorf("truncated: dimensions %v need %d data bytes, got %d", dims, total, got)
	case got > total:
		return nil, nil, fmt.Errorf("unexpected bytes after the %d data bytes of dimensions %v", total, dims)
	}
	return dims, buf.Bytes(), nil
}

// sizedReader is a reader whose total size is known: a regular file.
type sizedReader struct {
	io.Reader
	size int64
}
