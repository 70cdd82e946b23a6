package artifacts

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/sbinet/npyio/npy"
)

// seq returns n distinct values of T, including negative and fractional
// ones where T allows.
func seq[T Elem](n int) []T {
	v := make([]T, n)
	for i := range v {
		x := float64(i)*1.25 - 3
		switch kindOf[T]() {
		case reflect.Uint8:
			x = float64(i % 256)
		case reflect.Int32, reflect.Int64:
			x = float64(i*7 - 5)
		}
		v[i] = T(x)
	}
	return v
}

func prod(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

var testShapes = [][]int{{}, {0}, {1}, {5}, {2, 3}, {2, 3, 4}, {0, 3}, {3, 0, 2}, {1, 1, 1, 1}, {130}}

func roundTrip[T Elem](t *testing.T) {
	dt := dtypeOf[T]()
	for _, shape := range testShapes {
		t.Run(dt.name+shapeRepr(shape), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.npy")
			want := seq[T](prod(shape))
			if err := WriteNPY(path, want, shape...); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			hlen := int(binary.LittleEndian.Uint16(raw[8:10]))
			if raw[6] != 1 || raw[7] != 0 || (10+hlen)%64 != 0 || raw[10+hlen-1] != '\n' {
				t.Errorf("header is not numpy's version 1.0 padded to 64 bytes: %q", raw[:10+hlen])
			}
			if len(raw) != 10+hlen+len(want)*dt.size {
				t.Errorf("file has %d bytes, want %d", len(raw), 10+hlen+len(want)*dt.size)
			}
			got, gotShape, err := ReadNPY[T](path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotShape, shape) || len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
				t.Errorf("read back %v %v, want %v %v", gotShape, got, shape, want)
			}
		})
	}
}

func TestNPYRoundTrip(t *testing.T) {
	roundTrip[uint8](t)
	roundTrip[int32](t)
	roundTrip[int64](t)
	roundTrip[float32](t)
	roundTrip[float64](t)
}

type label uint8 // a named element type

func TestNPYNamedType(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.npy")
	if err := WriteNPY(path, []label{1, 2, 3}, 3); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadNPY[uint8](path); err != nil {
		t.Fatalf("named uint8 not written as uint8: %v", err)
	}
	got, _, err := ReadNPY[label](path)
	if err != nil || !reflect.DeepEqual(got, []label{1, 2, 3}) {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestNPYSpecialFloats(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.npy")
	want := []float64{math.Inf(1), math.Inf(-1), math.Copysign(0, -1), math.SmallestNonzeroFloat64, math.MaxFloat64}
	if err := WriteNPY(path, want, len(want)); err != nil {
		t.Fatal(err)
	}
	got, _, err := ReadNPY[float64](path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Errorf("element %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

// TestNPYHeaderBytes pins headers to what numpy 1.24 np.save writes.
func TestNPYHeaderBytes(t *testing.T) {
	for _, tc := range []struct {
		descr string
		shape []int
		want  string
	}{
		{"<f8", []int{2, 3}, "\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }" + strings.Repeat(" ", 58) + "\n"},
		{"|u1", nil, "\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': False, 'shape': (), }" + strings.Repeat(" ", 62) + "\n"},
	} {
		var h npy.Header
		h.Descr.Type, h.Descr.Shape = tc.descr, tc.shape
		if got := string(encodeNPYHeader(h)); got != tc.want {
			t.Errorf("header %s %v:\n got %q\nwant %q", tc.descr, tc.shape, got, tc.want)
		}
	}
}

// rawNPY builds a .npy file by hand: any descr, order and version.
func rawNPY(major byte, descr string, fortran bool, shape []int, data []byte) []byte {
	var h npy.Header
	h.Descr.Type, h.Descr.Fortran, h.Descr.Shape = descr, fortran, shape
	b := encodeNPYHeader(h)
	if major != 1 {
		dict := b[10:]
		b = append(append([]byte{}, npy.Magic[:]...), major, 0)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(dict)))
		b = append(b, dict...)
	}
	return append(b, data...)
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func bigEndianBytes(vals ...any) []byte {
	var buf bytes.Buffer
	for _, v := range vals {
		binary.Write(&buf, binary.BigEndian, v)
	}
	return buf.Bytes()
}

func checkRead[T Elem](t *testing.T, path string, wantShape []int, want []T) {
	t.Helper()
	got, shape, err := ReadNPY[T](path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(shape, wantShape) || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v %v, want %v %v", shape, got, wantShape, want)
	}
}

func TestReadNPYBigEndian(t *testing.T) {
	t.Run("f8", func(t *testing.T) {
		p := writeFile(t, "a.npy", rawNPY(1, ">f8", false, []int{3}, bigEndianBytes(1.5, -2.25, 1e300)))
		checkRead(t, p, []int{3}, []float64{1.5, -2.25, 1e300})
	})
	t.Run("f4", func(t *testing.T) {
		p := writeFile(t, "a.npy", rawNPY(1, ">f4", false, []int{2, 1}, bigEndianBytes(float32(1.5), float32(-3))))
		checkRead(t, p, []int{2, 1}, []float32{1.5, -3})
	})
	t.Run("i4", func(t *testing.T) {
		p := writeFile(t, "a.npy", rawNPY(1, ">i4", false, []int{2}, bigEndianBytes(int32(-7), int32(1<<30))))
		checkRead(t, p, []int{2}, []int32{-7, 1 << 30})
	})
	t.Run("i8", func(t *testing.T) {
		p := writeFile(t, "a.npy", rawNPY(1, ">i8", false, nil, bigEndianBytes(int64(-1<<40))))
		checkRead(t, p, []int{}, []int64{-1 << 40})
	})
	t.Run("ReadNPYAt", func(t *testing.T) {
		p := writeFile(t, "a.npy", rawNPY(1, ">i8", false, []int{4}, bigEndianBytes(int64(1), int64(2), int64(3), int64(4))))
		f, err := OpenNPY(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		dst := make([]int64, 2)
		if err := ReadNPYAt(f, dst, 1); err != nil || dst[0] != 2 || dst[1] != 3 {
			t.Fatalf("got %v, %v", dst, err)
		}
	})
}

func TestReadNPYFortran(t *testing.T) {
	// a[i,j,k] = 100i + 10j + k for shape (2,3,4), stored in Fortran order:
	// the first index varies fastest.
	shape := []int{2, 3, 4}
	var fdata, cdata []int32
	for k := 0; k < 4; k++ {
		for j := 0; j < 3; j++ {
			for i := 0; i < 2; i++ {
				fdata = append(fdata, int32(100*i+10*j+k))
			}
		}
	}
	for i := 0; i < 2; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 4; k++ {
				cdata = append(cdata, int32(100*i+10*j+k))
			}
		}
	}
	p := writeFile(t, "f.npy", rawNPY(1, "<i4", true, shape, asBytes(fdata)))
	checkRead(t, p, shape, cdata)

	f, err := OpenNPY(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := ReadNPYAt(f, make([]int32, 1), 0); err == nil || !strings.Contains(err.Error(), "Fortran") {
		t.Errorf("ReadNPYAt on a Fortran-order file: got %v, want an error", err)
	}

	// 1-d Fortran order is the same as C order.
	p = writeFile(t, "f1.npy", rawNPY(1, "<f8", true, []int{3}, asBytes([]float64{1, 2, 3})))
	checkRead(t, p, []int{3}, []float64{1, 2, 3})
	// Fortran order 2-d with an empty axis.
	p = writeFile(t, "f0.npy", rawNPY(1, "<f8", true, []int{0, 3}, nil))
	checkRead(t, p, []int{0, 3}, []float64{})
}

func TestReadNPYVersions(t *testing.T) {
	for _, major := range []byte{1, 2, 3} {
		p := writeFile(t, "v.npy", rawNPY(major, "<f4", false, []int{2, 2}, asBytes([]float32{1, 2, 3, 4})))
		checkRead(t, p, []int{2, 2}, []float32{1, 2, 3, 4})
	}
}

func TestReadNPYErrors(t *testing.T) {
	good := rawNPY(1, "<f8", false, []int{2, 3}, asBytes(seq[float64](6)))
	hdrLen := len(good) - 48
	withDict := func(dict string) []byte {
		d := dict + strings.Repeat(" ", 63-(10+len(dict))%64) + "\n"
		b := append(append([]byte{}, npy.Magic[:]...), 1, 0)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(d)))
		return append(append(b, d...), make([]byte, 48)...)
	}
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "not a .npy file"},
		{"bad magic", append([]byte("\x93NUMPZ"), good[6:]...), "magic"},
		{"version 4", append(append([]byte{}, good[:6]...), append([]byte{4, 0}, good[8:]...)...), "version 4.0"},
		{"truncated header", good[:40], "truncated header"},
		{"truncated data", good[:len(good)-1], "truncated"},
		{"data missing", good[:hdrLen], "truncated"},
		{"trailing bytes", append(append([]byte{}, good...), 0), "unexpected bytes"},
		{"shape mismatch", rawNPY(1, "<f8", false, []int{2, 4}, asBytes(seq[float64](6))), "truncated"},
		{"unsupported dtype", rawNPY(1, "<f2", false, []int{2}, make([]byte, 4)), "unsupported dtype"},
		{"bad byte order", rawNPY(1, "!f8", false, []int{1}, make([]byte, 8)), "unsupported dtype"},
		{"not a dict", withDict("[1, 2, 3]"), "not a numpy header dict"},
		{"keys out of order", withDict("{'shape': (6,), 'fortran_order': False, 'descr': '<f8', }"), "not a numpy header dict"},
		{"empty dim", withDict("{'descr': '<f8', 'fortran_order': False, 'shape': (2,,3), }"), "not a numpy header dict"},
		{"negative dim", withDict("{'descr': '<f8', 'fortran_order': False, 'shape': (-6,), }"), "not a numpy header dict"},
		{"bad fortran_order", withDict("{'descr': '<f8', 'fortran_order': 0, 'shape': (6,), }"), "not a numpy header dict"},
		{"huge shape", withDict("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"), "too large"},
		{"dim overflow", withDict("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }"), "header"},
		{"object dtype", rawNPY(1, "|O", false, []int{2}, make([]byte, 16)), `object dtype "|O": the array holds pickled Python objects, which are never loaded`},
		{"evaluatable header", withDict("{'descr': __import__('os').system('touch /tmp/pwned'), 'fortran_order': False, 'shape': (6,), }"), "not a numpy header dict"},
		{"header larger than numpy allows", withDict("{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }" + strings.Repeat(" ", 10001)), "header of 10102 bytes is larger than numpy allows (10000)"},
		{"absurd shape, small file", withDict("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }"), "truncated: float64 (1000000000000,) needs 8000000000000 data bytes"},
		{"wrong dtype requested", rawNPY(1, "<f4", false, []int{2}, make([]byte, 8)), "dtype is float32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "bad.npy", tc.file)
			_, _, err := ReadNPY[float64](path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("ReadNPY: got error %v, want one naming the file and containing %q", err, tc.want)
			}
			if tc.name == "wrong dtype requested" {
				return // OpenNPY accepts any supported dtype
			}
			if f, err := OpenNPY(path); err == nil || !strings.Contains(err.Error(), path) {
				if f != nil {
					f.Close()
				}
				t.Errorf("OpenNPY: got error %v, want one naming the file", err)
			}
		})
	}
	if _, _, err := ReadNPY[float64](filepath.Join(t.TempDir(), "missing.npy")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want os.ErrNotExist", err)
	}
}

func TestDecodeNPYUnknownSize(t *testing.T) {
	good := rawNPY(1, "<i8", false, []int{3}, asBytes([]int64{1, 2, 3}))
	if v, _, err := decodeNPY[int64](bytes.NewReader(good), -1); err != nil || !reflect.DeepEqual(v, []int64{1, 2, 3}) {
		t.Errorf("got %v, %v", v, err)
	}
	for _, b := range [][]byte{good[:len(good)-1], append(append([]byte{}, good...), 9)} {
		if _, _, err := decodeNPY[int64](bytes.NewReader(b), -1); err == nil {
			t.Errorf("%d bytes: no error", len(b))
		}
	}
}

func TestWriteNPYShapeMismatch(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		n     int
		shape []int
	}{{5, []int{2, 3}}, {5, nil}, {0, []int{-1}}, {6, []int{2, -3}}} {
		path := filepath.Join(dir, "x.npy")
		err := WriteNPY(path, make([]float32, tc.n), tc.shape...)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%d elements as %v: got %v, want an error naming the file", tc.n, tc.shape, err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%d elements as %v: file left behind", tc.n, tc.shape)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("temporary files left behind: %v", ents)
	}
}

func TestNPYWriter(t *testing.T) {
	shape := []int{4, 3}
	want := seq[float64](12)
	for _, tc := range []struct {
		name      string
		chunks    [][]float64
		writeFail bool // a Write fails
		closeFail bool
	}{
		{"exact, one write", [][]float64{want}, false, false},
		{"exact, row by row", [][]float64{want[:3], want[3:6], {}, want[6:9], want[9:]}, false, false},
		{"too few", [][]float64{want[:11]}, false, true},
		{"none", nil, false, true},
		{"too many", [][]float64{want, {1}}, true, true},
		{"too many at once", [][]float64{append(want, 1)}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "s.npy")
			w, err := CreateNPY[float64](path, shape...)
			if err != nil {
				t.Fatal(err)
			}
			var werr error
			for _, c := range tc.chunks {
				if err := w.Write(c); err != nil {
					werr = err
				}
			}
			if (werr != nil) != tc.writeFail {
				t.Errorf("Write error %v, want failure %v", werr, tc.writeFail)
			}
			cerr := w.Close()
			if (cerr != nil) != tc.closeFail {
				t.Errorf("Close error %v, want failure %v", cerr, tc.closeFail)
			}
			if cerr != nil && !strings.Contains(cerr.Error(), path) {
				t.Errorf("Close error %v does not name the file", cerr)
			}
			if w.Close() == nil {
				t.Error("second Close: no error")
			}
			if tc.closeFail {
				if ents, _ := os.ReadDir(dir); len(ents) != 0 {
					t.Errorf("failed write left files behind: %v", ents)
				}
				return
			}
			checkRead(t, path, shape, want)
		})
	}
}

func TestReadNPYAt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.npy")
	all := seq[int32](60)
	if err := WriteNPY(path, all, 5, 3, 4); err != nil {
		t.Fatal(err)
	}
	f, err := OpenNPY(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !reflect.DeepEqual(f.Shape(), []int{5, 3, 4}) || f.DType() != "int32" || f.Len() != 60 {
		t.Fatalf("Shape %v DType %s Len %d", f.Shape(), f.DType(), f.Len())
	}
	for _, tc := range []struct {
		off, n int
		ok     bool
	}{{0, 60, true}, {12, 12, true}, {59, 1, true}, {60, 0, true}, {0, 0, true}, {49, 12, false}, {-1, 1, false}, {61, 0, false}, {0, 61, false}} {
		dst := make([]int32, tc.n)
		err := ReadNPYAt(f, dst, int64(tc.off))
		if (err == nil) != tc.ok {
			t.Errorf("[%d, +%d): error %v, want ok=%v", tc.off, tc.n, err, tc.ok)
		}
		if err == nil && !reflect.DeepEqual(dst, all[tc.off:tc.off+tc.n]) {
			t.Errorf("[%d, +%d): got %v", tc.off, tc.n, dst)
		}
		if err != nil && !strings.Contains(err.Error(), path) {
			t.Errorf("error %v does not name the file", err)
		}
	}
	if err := ReadNPYAt(f, make([]int64, 1), 0); err == nil || !strings.Contains(err.Error(), "dtype is int32") {
		t.Errorf("wrong dtype: got %v", err)
	}
	// Concurrent row gathers.
	var wg sync.WaitGroup
	for row := 0; row < 5; row++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dst := make([]int32, 12)
			if err := ReadNPYAt(f, dst, int64(row*12)); err != nil || !reflect.DeepEqual(dst, all[row*12:row*12+12]) {
				t.Errorf("row %d: %v %v", row, dst, err)
			}
		}()
	}
	wg.Wait()
}

func TestFortranToC(t *testing.T) {
	// A (2,3) array [[0,1,2],[3,4,5]] in Fortran order is 0,3,1,4,2,5.
	if got := fortranToC([]int{0, 3, 1, 4, 2, 5}, []int{2, 3}); !reflect.DeepEqual(got, []int{0, 1, 2, 3, 4, 5}) {
		t.Errorf("got %v", got)
	}
}

func FuzzReadNPY(f *testing.F) {
	f.Add(rawNPY(1, "<f8", false, []int{2, 3}, asBytes(seq[float64](6))))
	f.Add(rawNPY(1, "|u1", false, nil, []byte{7}))
	f.Add(rawNPY(2, ">i4", true, []int{2, 2}, make([]byte, 16)))
	f.Add(rawNPY(3, "<i8", false, []int{0, 5}, nil))
	f.Add(rawNPY(1, "<f4", true, []int{2, 1, 2}, make([]byte, 16))[:70])
	f.Add([]byte("\x93NUMPY\x01\x00\x05\x00{'a'}"))
	f.Add([]byte("\x93NUMPY\x02\x00\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(n int, shape []int, err error) {
			if err == nil && n != prod(shape) {
				t.Errorf("%d elements for shape %v", n, shape)
			}
		}
		u8, s, err := decodeNPY[uint8](bytes.NewReader(b), int64(len(b)))
		check(len(u8), s, err)
		i32, s, err := decodeNPY[int32](bytes.NewReader(b), int64(len(b)))
		check(len(i32), s, err)
		i64, s, err := decodeNPY[int64](bytes.NewReader(b), int64(len(b)))
		check(len(i64), s, err)
		f32, s, err := decodeNPY[float32](bytes.NewReader(b), int64(len(b)))
		check(len(f32), s, err)
		f64, s, err := decodeNPY[float64](bytes.NewReader(b), int64(len(b)))
		check(len(f64), s, err)
		if len(b) < 1<<16 {
			_, _, _ = decodeNPY[float64](bytes.NewReader(b), -1)
		}
	})
}
