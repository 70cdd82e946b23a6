package artifacts

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sampleColumns has every column kind, rows rows.
func sampleColumns(rows int) (*Columns, map[string]any) {
	i64 := make([]int64, rows)
	i32 := make([]int32, rows)
	u8 := make([]uint8, rows)
	f32 := make([]float32, rows)
	f64 := make([]float64, rows)
	str := make([]string, rows)
	vec := make([]float32, rows*3)
	for i := 0; i < rows; i++ {
		i64[i] = int64(i)*(1<<40) - 5
		i32[i] = int32(i*3 - 7)
		u8[i] = uint8(i * 37)
		f32[i] = float32(i) * 0.5
		f64[i] = float64(i)/3 - 1
		str[i] = []string{"", "shirt", "ankle boot", "Ünïcode ✓"}[i%4]
		for j := 0; j < 3; j++ {
			vec[i*3+j] = float32(i) + float32(j)/4
		}
	}
	c := NewColumns().Int64("id", i64).Int32("i32", i32).Uint8("label", u8).
		Float32("f32", f32).Float64("score", f64).String("name", str).FixedFloat32("emb", vec, 3)
	return c, map[string]any{"id": i64, "i32": i32, "label": u8, "f32": f32, "score": f64, "name": str, "emb": vec}
}

func TestArrowRoundTrip(t *testing.T) {
	defer func(b int) { arrowBatchRows = b }(arrowBatchRows)
	for _, rows := range []int{0, 1, 5, 7, 12} {
		arrowBatchRows = 1 << 16
		if rows >= 7 {
			arrowBatchRows = 3 // several batches, the last one short or full
		}
		c, want := sampleColumns(rows)
		c.Metadata("source", "test")
		path := filepath.Join(t.TempDir(), "t.arrow")
		if err := WriteArrow(path, c); err != nil {
			t.Fatal(err)
		}
		tb, err := ReadArrow(path)
		if err != nil {
			t.Fatal(err)
		}
		if tb.NumRows() != rows {
			t.Errorf("%d rows: NumRows %d", rows, tb.NumRows())
		}
		if names := tb.Names(); !reflect.DeepEqual(names, []string{"id", "i32", "label", "f32", "score", "name", "emb"}) {
			t.Errorf("Names %v", names)
		}
		if tb.Metadata()["source"] != "test" {
			t.Errorf("metadata %v", tb.Metadata())
		}
		same := func(name string, got, want any, err error) {
			t.Helper()
			if err != nil {
				t.Errorf("%d rows, column %s: %v", rows, name, err)
				return
			}
			if reflect.ValueOf(got).Len() != reflect.ValueOf(want).Len() || (reflect.ValueOf(want).Len() > 0 && !reflect.DeepEqual(got, want)) {
				t.Errorf("%d rows, column %s: values differ", rows, name)
			}
		}
		v1, err := tb.Int64("id")
		same("id", v1, want["id"], err)
		v2, err := tb.Int32("i32")
		same("i32", v2, want["i32"], err)
		v3, err := tb.Uint8("label")
		same("label", v3, want["label"], err)
		v4, err := tb.Float32("f32")
		same("f32", v4, want["f32"], err)
		v5, err := tb.Float64("score")
		same("score", v5, want["score"], err)
		v6, err := tb.String("name")
		same("name", v6, want["name"], err)
		v7, w, err := tb.FixedFloat32("emb")
		same("emb", v7, want["emb"], err)
		if w != 3 {
			t.Errorf("emb width %d", w)
		}
	}
}

func TestArrowSpecialFloats(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.arrow")
	in := []float64{math.NaN(), math.Inf(-1), math.Copysign(0, -1)}
	if err := WriteArrow(path, NewColumns().Float64("x", in)); err != nil {
		t.Fatal(err)
	}
	tb, err := ReadArrow(path)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := tb.Float64("x")
	for i := range in {
		if math.Float64bits(got[i]) != math.Float64bits(in[i]) {
			t.Errorf("%d: got %v want %v", i, got[i], in[i])
		}
	}
}

func TestArrowAccessorErrors(t *testing.T) {
	c, _ := sampleColumns(2)
	path := filepath.Join(t.TempDir(), "t.arrow")
	if err := WriteArrow(path, c); err != nil {
		t.Fatal(err)
	}
	tb, err := ReadArrow(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Int64("label"); err == nil || !strings.Contains(err.Error(), "uint8") {
		t.Errorf("wrong type: %v", err)
	}
	if _, err := tb.Float32("nope"); err == nil || !strings.Contains(err.Error(), `no column "nope"`) {
		t.Errorf("missing column: %v", err)
	}
	if _, _, err := tb.FixedFloat32("f32"); err == nil {
		t.Error("FixedFloat32 of a float32 column: no error")
	}
	if got := tb.Type("emb"); !strings.Contains(got, "fixed_size_list") {
		t.Errorf("Type(emb) = %q", got)
	}
}

func TestWriteArrowErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    *Columns
		want string
	}{
		{"no columns", NewColumns(), "no columns"},
		{"nil", nil, "nil Columns"},
		{"lengths differ", NewColumns().Int64("a", []int64{1, 2}).Float32("b", []float32{1}), `"b" has 1 rows`},
		{"vector rows differ", NewColumns().Int64("a", []int64{1, 2}).FixedFloat32("v", make([]float32, 6), 2), `"v" has 3 rows`},
		{"duplicate name", NewColumns().Int64("a", nil).Int32("a", nil), "twice"},
		{"empty name", NewColumns().Int64("", nil), "empty name"},
		{"ragged vectors", NewColumns().FixedFloat32("v", make([]float32, 5), 2), "width 2"},
		{"zero width", NewColumns().FixedFloat32("v", nil, 0), "width 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "t.arrow")
			err := WriteArrow(path, tc.c)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("got %v, want an error naming the file and containing %q", err, tc.want)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("files left behind: %v", ents)
			}
		})
	}
}

func TestReadArrowErrors(t *testing.T) {
	c, _ := sampleColumns(10)
	good := filepath.Join(t.TempDir(), "t.arrow")
	if err := WriteArrow(good, c); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(good)
	for name, b := range map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("this is not an arrow file at all, not even close"),
		"truncated": raw[:len(raw)/2],
		"npy":       rawNPY(1, "<f8", false, []int{1}, make([]byte, 8)),
	} {
		path := writeFile(t, "bad.arrow", b)
		if _, err := ReadArrow(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: got %v, want an error naming the file", name, err)
		}
	}
	// Truncated anywhere: an error, not a panic. (Arbitrary corruption is
	// not covered: arrow/go v17's reader can be driven to fatal
	// out-of-memory errors by corrupt schema metadata.)
	for n := 0; n < len(raw); n += 8 {
		if _, err := ReadArrow(writeFile(t, "cut.arrow", raw[:n])); err == nil {
			t.Errorf("file cut to %d of %d bytes: no error", n, len(raw))
		}
	}
}
