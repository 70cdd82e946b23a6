package artifacts

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/siamese-pipeline/siamese/internal/pytest"
)

// The interpreter with numpy: the first python3 on PATH may lack it.

func needNumpy(t *testing.T) {
	t.Helper()
	pytest.Need(t, "numpy")
}

func runPython(t *testing.T, script string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(pytest.Python, append([]string{"-c", script}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("python: %v\n%s%s", err, out, stderr)
	}
	return out
}

type npyCase struct {
	File   string `json:"file"`
	DType  string `json:"dtype"`
	Shape  []int  `json:"shape"`
	Values []any  `json:"values"` // flat, C order
}

// numpy loads what Go writes, with the right dtype, shape and values, and
// np.save of the same array produces the same bytes.
const checkGoFiles = `
import io, json, sys
import numpy as np
cases = json.load(open(sys.argv[1]))
for c in cases:
    a = np.load(c["file"])
    want = np.array(c["values"], dtype=c["dtype"]).reshape(c["shape"])
    assert a.dtype == np.dtype(c["dtype"]), (c["file"], a.dtype, c["dtype"])
    assert a.dtype.byteorder in "=|<", (c["file"], a.dtype.byteorder)
    assert a.shape == tuple(c["shape"]), (c["file"], a.shape, c["shape"])
    assert np.array_equal(a, want), (c["file"], a, want)
    buf = io.BytesIO()
    np.save(buf, want)
    assert buf.getvalue() == open(c["file"], "rb").read(), (c["file"], "differs from np.save")
print(len(cases), "ok")
`

func TestNumpyReadsGo(t *testing.T) {
	needNumpy(t)
	dir := t.TempDir()
	var cases []npyCase
	add := func(path, dtype string, shape []int, vals any) {
		v := reflect.ValueOf(vals)
		c := npyCase{File: path, DType: dtype, Shape: shape, Values: []any{}}
		for i := 0; i < v.Len(); i++ {
			c.Values = append(c.Values, v.Index(i).Interface())
		}
		cases = append(cases, c)
	}
	for i, shape := range [][]int{{}, {0}, {7}, {2, 3}, {2, 3, 4}, {0, 3}, {1, 2, 1, 3}} {
		n := prod(shape)
		write := func(dtype string, vals any, err error) {
			if err != nil {
				t.Fatal(err)
			}
			add(filepath.Join(dir, fmt.Sprintf("%s_%d.npy", dtype, i)), dtype, shape, vals)
		}
		p := func(dtype string) string { return filepath.Join(dir, fmt.Sprintf("%s_%d.npy", dtype, i)) }
		u8, i32, i64, f32, f64 := seq[uint8](n), seq[int32](n), seq[int64](n), seq[float32](n), seq[float64](n)
		write("uint8", u8, WriteNPY(p("uint8"), u8, shape...))
		write("int32", i32, WriteNPY(p("int32"), i32, shape...))
		write("int64", i64, WriteNPY(p("int64"), i64, shape...))
		write("float32", f32, WriteNPY(p("float32"), f32, shape...))
		write("float64", f64, WriteNPY(p("float64"), f64, shape...))
	}
	// Values that need every bit, and a streamed file.
	extreme := []int64{-1 << 63, 1<<63 - 1, 0, -1}
	if err := WriteNPY(filepath.Join(dir, "extreme.npy"), extreme, 2, 2); err != nil {
		t.Fatal(err)
	}
	add(filepath.Join(dir, "extreme.npy"), "int64", []int{2, 2}, extreme)
	w, err := CreateNPY[float32](filepath.Join(dir, "stream.npy"), 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	all := seq[float32](12)
	for r := 0; r < 3; r++ {
		if err := w.Write(all[r*4 : r*4+4]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	add(filepath.Join(dir, "stream.npy"), "float32", []int{3, 4}, all)

	manifest := filepath.Join(dir, "manifest.json")
	b, _ := json.Marshal(cases)
	if err := os.WriteFile(manifest, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("numpy: %s", runPython(t, checkGoFiles, manifest))
}

// numpy writes files in many layouts; Go reads them.
const writeNumpyFiles = `
import json, os, sys
import numpy as np
d = sys.argv[1]
arrays = {
    "f8_c": np.arange(6, dtype="<f8").reshape(2, 3) / 4 - 1,
    "f8_big": (np.arange(5, dtype=">f8") - 2.5) * 1e100,
    "i4_big": np.arange(-3, 3, dtype=">i4").reshape(3, 2) * 1000003,
    "i8_big_fortran": np.asfortranarray(np.arange(24, dtype=">i8").reshape(2, 3, 4) - 12),
    "f4_fortran": np.asfortranarray(np.arange(24, dtype="<f4").reshape(2, 3, 4) / 8),
    "f8_fortran_2d": np.asfortranarray(np.arange(12, dtype="<f8").reshape(3, 4)),
    "f8_transposed": np.arange(12, dtype="<f8").reshape(3, 4).T,
    "u1_scalar": np.array(200, dtype=np.uint8),
    "u1_images": np.arange(2 * 28 * 28, dtype=np.int64).astype(np.uint8).reshape(2, 28, 28),
    "i8_empty": np.zeros((0, 3), dtype=np.int64),
    "f4_long": np.linspace(-1, 1, 1000, dtype=np.float32),
}
out = []
for name, a in arrays.items():
    path = os.path.join(d, name + ".npy")
    np.save(path, a)
    out.append({"file": path, "dtype": a.dtype.name, "shape": list(a.shape), "values": a.ravel(order="C").tolist()})
for version in [(2, 0), (3, 0)]:
    a = np.arange(10, dtype="<f8").reshape(2, 5)
    path = os.path.join(d, "v%d.npy" % version[0])
    with open(path, "wb") as f:
        np.lib.format.write_array(f, a, version=version)
    out.append({"file": path, "dtype": "float64", "shape": [2, 5], "values": a.ravel().tolist()})
json.dump(out, sys.stdout)
`

func TestGoReadsNumpy(t *testing.T) {
	needNumpy(t)
	var cases []npyCase
	if err := json.Unmarshal(runPython(t, writeNumpyFiles, t.TempDir()), &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.File), func(t *testing.T) {
			switch c.DType {
			case "uint8":
				checkNumpyCase[uint8](t, c)
			case "int32":
				checkNumpyCase[int32](t, c)
			case "int64":
				checkNumpyCase[int64](t, c)
			case "float32":
				checkNumpyCase[float32](t, c)
			case "float64":
				checkNumpyCase[float64](t, c)
			default:
				t.Fatalf("dtype %s", c.DType)
			}
		})
	}
}

func checkNumpyCase[T Elem](t *testing.T, c npyCase) {
	want := make([]T, len(c.Values))
	for i, v := range c.Values {
		want[i] = T(v.(float64)) // JSON numbers; the int64 values here are small
	}
	got, shape, err := ReadNPY[T](c.File)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(shape, c.Shape) || len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
		t.Fatalf("got %v %v, want %v %v", shape, got, c.Shape, want)
	}
	f, err := OpenNPY(c.File)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.DType() != c.DType || !reflect.DeepEqual(f.Shape(), c.Shape) {
		t.Errorf("OpenNPY: %s %v", f.DType(), f.Shape())
	}
	if f.h.fortran && len(c.Shape) > 1 {
		return
	}
	if len(want) > 1 {
		dst := make([]T, len(want)-1)
		if err := ReadNPYAt(f, dst, 1); err != nil || !reflect.DeepEqual(dst, want[1:]) {
			t.Errorf("ReadNPYAt: %v %v", dst, err)
		}
	}
}
