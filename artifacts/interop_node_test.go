package artifacts

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/siamese-pipeline/siamese/internal/testenv"
)

// nodeReader is the independent Arrow reader (interop/read_arrow.mjs, using
// the apache-arrow npm package), relative to this package's directory.
const nodeReader = "../interop/read_arrow.mjs"

func needNodeArrow(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "Arrow interop: node not found on PATH")
	}
	if _, err := os.Stat("../interop/node_modules/apache-arrow"); err != nil {
		testenv.Missing(t, "Arrow interop: interop/node_modules/apache-arrow missing; run `npm ci --prefix interop`")
	}
	return node
}

type nodeTable struct {
	Fields []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"fields"`
	NumRows  int                          `json:"numRows"`
	Metadata map[string]string            `json:"metadata"`
	Columns  map[string][]json.RawMessage `json:"columns"`
}

func readWithNode(t *testing.T, node, path string) nodeTable {
	t.Helper()
	out, err := exec.Command(node, nodeReader, path).Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node %s %s: %v\n%s", nodeReader, path, err, stderr)
	}
	var tb nodeTable
	if err := json.Unmarshal(out, &tb); err != nil {
		t.Fatalf("node output: %v\n%s", err, out)
	}
	return tb
}

func TestNodeReadsArrow(t *testing.T) {
	node := needNodeArrow(t)
	for _, tc := range []struct{ rows, batch int }{{0, 1 << 16}, {5, 1 << 16}, {5, 2}} {
		rows := tc.rows
		t.Run(fmt.Sprintf("%d rows in batches of %d", tc.rows, tc.batch), func(t *testing.T) {
			defer func(b int) { arrowBatchRows = b }(arrowBatchRows)
			arrowBatchRows = tc.batch
			c, want := sampleColumns(rows)
			c.Metadata("run", "interop")
			path := filepath.Join(t.TempDir(), "t.arrow")
			if err := WriteArrow(path, c); err != nil {
				t.Fatal(err)
			}
			tb := readWithNode(t, node, path)
			if tb.NumRows != rows || tb.Metadata["run"] != "interop" {
				t.Errorf("numRows %d metadata %v", tb.NumRows, tb.Metadata)
			}
			wantTypes := []string{"id:Int64", "i32:Int32", "label:Uint8", "f32:Float32", "score:Float64", "name:Utf8", "emb:FixedSizeList[3]<Float32>"}
			var gotTypes []string
			for _, f := range tb.Fields {
				gotTypes = append(gotTypes, f.Name+":"+f.Type)
			}
			if !reflect.DeepEqual(gotTypes, wantTypes) {
				t.Errorf("fields %v, want %v", gotTypes, wantTypes)
			}
			for name, vals := range want {
				col := tb.Columns[name]
				v := reflect.ValueOf(vals)
				if name == "emb" {
					for i := 0; i < rows; i++ {
						var row []float32
						if err := json.Unmarshal(col[i], &row); err != nil || !reflect.DeepEqual(row, vals.([]float32)[3*i:3*i+3]) {
							t.Errorf("emb row %d: %s (%v)", i, col[i], err)
						}
					}
					if len(col) != rows {
						t.Errorf("emb: %d rows", len(col))
					}
					continue
				}
				if len(col) != v.Len() {
					t.Errorf("%s: %d values, want %d", name, len(col), v.Len())
					continue
				}
				for i := range col {
					w := v.Index(i).Interface()
					var got any
					switch w.(type) {
					case int64: // printed as strings: JSON numbers cannot hold them
						var s string
						json.Unmarshal(col[i], &s)
						got = s
						w = fmt.Sprint(w)
					default:
						p := reflect.New(reflect.TypeOf(w))
						json.Unmarshal(col[i], p.Interface())
						got = p.Elem().Interface()
					}
					if got != w {
						t.Errorf("%s[%d] = %s, want %v", name, i, col[i], w)
					}
				}
			}
		})
	}
}
