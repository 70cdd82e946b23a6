package artifacts

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"
)

// The readers' limits on what outside bytes may announce, each at the
// value where it starts to bite.

// An .npy header whose element count fits in an int64 but whose byte
// count does not (2^61 float64s are 2^64 bytes) is refused as too large,
// not read as an empty array.
func TestNPYByteCountOverflow(t *testing.T) {
	tests := []struct {
		descr string
		shape []int
	}{
		{"<f8", []int{1 << 61}},
		{"<f4", []int{1 << 30, 1 << 32}},
		{"<i8", []int{2, 1 << 60}},
	}
	for _, tt := range tests {
		path := writeFile(t, "big.npy", rawNPY(1, tt.descr, false, tt.shape, nil))
		var err error
		switch tt.descr {
		case "<f8":
			_, _, err = ReadNPY[float64](path)
		case "<f4":
			_, _, err = ReadNPY[float32](path)
		case "<i8":
			_, _, err = ReadNPY[int64](path)
		}
		if err == nil || !strings.Contains(err.Error(), "too large") {
			t.Errorf("%s %v: %v, want an error saying the array is too large", tt.descr, tt.shape, err)
		}
	}
}

// An IDX header may announce up to 4 GiB; the reader allocates no more
// than a bounded buffer before the bytes are there, so a stream that
// announces a gigabyte and holds nothing costs megabytes.
func TestIDXAllocationCap(t *testing.T) {
	header := idxFile(idxImagesMagic, []uint32{1 << 14, 256, 256}, nil) // 2^30 bytes announced
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := decodeIDX(bytes.NewReader(header), 3) // a stream: its size unknown
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("got %v, want a truncated stream", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<20 {
		t.Errorf("reading a header that announces 1 GiB allocated %d MiB", grew>>20)
	}
}

// nestedFooter is an Arrow file's tail, a footer whose schema holds one
// field nested depth deep, then its length and the magic.
func nestedFooter(depth int) []byte {
	b := flatbuffers.NewBuilder(0)
	var child flatbuffers.UOffsetT
	for range depth {
		name := b.CreateString("f")
		var children flatbuffers.UOffsetT
		if child != 0 {
			b.StartVector(4, 1, 4)
			b.PrependUOffsetT(child)
			children = b.EndVector(1)
		}
		b.StartObject(7)
		b.PrependUOffsetTSlot(0, name, 0)
		if children != 0 {
			b.PrependUOffsetTSlot(5, children, 0)
		}
		child = b.EndObject()
	}
	b.StartVector(4, 1, 4)
	b.PrependUOffsetT(child)
	fields := b.EndVector(1)
	b.StartObject(4)
	b.PrependUOffsetTSlot(1, fields, 0)
	schema := b.EndObject()
	b.StartObject(5)
	b.PrependUOffsetTSlot(1, schema, 0)
	b.Finish(b.EndObject())
	footer := b.FinishedBytes()
	out := append([]byte("ARROW1\x00\x00"), footer...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(footer)))
	return append(out, "ARROW1"...)
}

// Fields nested 64 deep are read; 65 deep, the footer is refused before
// the reader recurses into it.
func TestArrowFieldDepthLimit(t *testing.T) {
	for _, tt := range []struct {
		depth int
		ok    bool
	}{{1, true}, {maxFieldDepth, true}, {maxFieldDepth + 1, false}, {1000, false}} {
		file := nestedFooter(tt.depth)
		err := checkFooter(bytes.NewReader(file), int64(len(file)))
		if (err == nil) != tt.ok || (err != nil && !strings.Contains(err.Error(), "nested over 64 deep")) {
			t.Errorf("fields nested %d deep: %v, want accepted %v", tt.depth, err, tt.ok)
		}
	}
}

// A saved network with a non-finite weight or bias is refused by name.
func TestReadMLPNonFinite(t *testing.T) {
	for _, tt := range []struct {
		file string
		v    float32
	}{{"W0.npy", float32(math.NaN())}, {"b0.npy", float32(math.NaN())}, {"b0.npy", float32(math.Inf(-1))}, {"W0.npy", float32(math.Inf(1))}} {
		dir := t.TempDir()
		w, b := make([]float32, 6), make([]float32, 2)
		if tt.file == "W0.npy" {
			w[5] = tt.v
		} else {
			b[1] = tt.v
		}
		must := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		must(WriteNPY(filepath.Join(dir, "W0.npy"), w, 3, 2))
		must(WriteNPY(filepath.Join(dir, "b0.npy"), b, 2))
		must(os.WriteFile(filepath.Join(dir, "model.json"),
			[]byte(`{"layers": [{"weights": "W0.npy", "bias": "b0.npy", "in": 3, "out": 2, "activation": "linear"}]}`), 0o644))
		_, _, err := ReadMLP(dir)
		if err == nil || !strings.Contains(err.Error(), tt.file) || !strings.Contains(err.Error(), "finite") {
			t.Errorf("%s holding %v: %v, want it refused by name", tt.file, tt.v, err)
		}
	}
}
