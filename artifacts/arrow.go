package artifacts

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/siamese-pipeline/siamese/internal/atomicfile"
)

// arrowBatchRows is the number of rows per record batch WriteArrow writes
// (a variable for the tests).
var arrowBatchRows = 1 << 16

// Columns is an ordered set of named columns to write with WriteArrow.
// The columns refer to the slices they were given (no copy), which must not
// change until WriteArrow returns. Mistakes (an empty or repeated name, a
// bad width) are reported by WriteArrow.
type Columns struct {
	cols []column
	meta map[string]string
	err  error
}

type column struct {
	name  string
	typ   arrow.DataType
	rows  int
	slice func(lo, hi int) arrow.Array // rows [lo, hi) as an Arrow array
}

// NewColumns starts an empty set of columns.
func NewColumns() *Columns { return &Columns{} }

func (c *Columns) add(name string, typ arrow.DataType, rows int, slice func(lo, hi int) arrow.Array) *Columns {
	if c.err != nil {
		return c
	}
	if name == "" {
		c.err = errors.New("column with an empty name")
		return c
	}
	for _, col := range c.cols {
		if col.name == name {
			c.err = fmt.Errorf("column %q added twice", name)
			return c
		}
	}
	c.cols = append(c.cols, column{name, typ, rows, slice})
	return c
}

// primitive is a zero-copy Arrow array over v[lo:hi].
func primitive(typ arrow.DataType, b []byte) arrow.Array {
	var buf *memory.Buffer
	if b != nil {
		buf = memory.NewBufferBytes(b)
	}
	n := 0
	if w := typ.(arrow.FixedWidthDataType).Bytes(); w > 0 {
		n = len(b) / w
	}
	data := array.NewData(typ, n, []*memory.Buffer{nil, buf}, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// Int64 adds an int64 column.
func (c *Columns) Int64(name string, v []int64) *Columns {
	return addPrimitive(c, name, arrow.PrimitiveTypes.Int64, v)
}

// Int32 adds an int32 column.
func (c *Columns) Int32(name string, v []int32) *Columns {
	return addPrimitive(c, name, arrow.PrimitiveTypes.Int32, v)
}

// Uint8 adds a uint8 column.
func (c *Columns) Uint8(name string, v []uint8) *Columns {
	return addPrimitive(c, name, arrow.PrimitiveTypes.Uint8, v)
}

// Float32 adds a float32 column.
func (c *Columns) Float32(name string, v []float32) *Columns {
	return addPrimitive(c, name, arrow.PrimitiveTypes.Float32, v)
}

// Float64 adds a float64 column.
func (c *Columns) Float64(name string, v []float64) *Columns {
	return addPrimitive(c, name, arrow.PrimitiveTypes.Float64, v)
}

// addPrimitive adds a column of fixed-width values, handed to Arrow
// without copying.
func addPrimitive[T int64 | int32 | uint8 | float32 | float64](c *Columns, name string, typ arrow.DataType, v []T) *Columns {
	return c.add(name, typ, len(v), func(lo, hi int) arrow.Array {
		return primitive(typ, arrow.GetBytes(v[lo:hi]))
	})
}

// String adds a UTF-8 string column.
func (c *Columns) String(name string, v []string) *Columns {
	return c.add(name, arrow.BinaryTypes.String, len(v), func(lo, hi int) arrow.Array {
		b := array.NewStringBuilder(memory.DefaultAllocator)
		defer b.Release()
		b.AppendValues(v[lo:hi], nil)
		return b.NewArray()
	})
}

// FixedFloat32 adds a FixedSizeList<float32, width> column: one vector of
// width values per row, so len(v) must be rows*width.
func (c *Columns) FixedFloat32(name string, v []float32, width int) *Columns {
	if c.err == nil && (width <= 0 || width > 1<<30 || len(v)%width != 0) {
		c.err = fmt.Errorf("column %q: %d values do not make rows of width %d", name, len(v), width)
	}
	if c.err != nil {
		return c
	}
	typ := arrow.FixedSizeListOf(int32(width), arrow.PrimitiveTypes.Float32)
	return c.add(name, typ, len(v)/width, func(lo, hi int) arrow.Array {
		child := primitive(arrow.PrimitiveTypes.Float32, arrow.Float32Traits.CastToBytes(v[lo*width:hi*width]))
		defer child.Release()
		data := array.NewData(typ, hi-lo, []*memory.Buffer{nil}, []arrow.ArrayData{child.Data()}, 0, 0)
		defer data.Release()
		return array.MakeFromData(data)
	})
}

// Metadata sets a key/value pair of the schema's metadata (for provenance,
// say); pyarrow shows it as schema.metadata.
func (c *Columns) Metadata(key, value string) *Columns {
	if c.meta == nil {
		c.meta = map[string]string{}
	}
	c.meta[key] = value
	return c
}

// WriteArrow writes the columns as an Arrow IPC file (uncompressed: the
// JavaScript implementation, among others, cannot read compressed files).
// All columns must have the same number of rows.
func WriteArrow(path string, c *Columns) (err error) {
	if err := c.check(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fields := make([]arrow.Field, len(c.cols))
	for i, col := range c.cols {
		fields[i] = arrow.Field{Name: col.name, Type: col.typ, Nullable: true}
	}
	var meta *arrow.Metadata
	if len(c.meta) > 0 {
		keys := make([]string, 0, len(c.meta))
		for k := range c.meta {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		vals := make([]string, len(keys))
		for i, k := range keys {
			vals[i] = c.meta[k]
		}
		m := arrow.NewMetadata(keys, vals)
		meta = &m
	}
	schema := arrow.NewSchema(fields, meta)

	f, err := atomicfile.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write %s: arrow: %v", path, p)
		}
		if err != nil {
			f.Abort()
		}
	}()
	w, err := ipc.NewFileWriter(f, ipc.WithSchema(schema), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	rows := c.cols[0].rows
	// An empty table still gets one (empty) batch: some readers expect one.
	for lo := 0; lo < rows || lo == 0; lo += arrowBatchRows {
		hi := min(lo+arrowBatchRows, rows)
		arrs := make([]arrow.Array, len(c.cols))
		for i, col := range c.cols {
			arrs[i] = col.slice(lo, hi)
		}
		rec := array.NewRecord(schema, arrs, int64(hi-lo))
		err = w.Write(rec)
		rec.Release()
		for _, a := range arrs {
			a.Release()
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if hi == rows {
			break
		}
	}
	if err = w.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Commit(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func (c *Columns) check() error {
	if c == nil {
		return errors.New("nil Columns")
	}
	if c.err != nil {
		return c.err
	}
	if len(c.cols) == 0 {
		return errors.New("no columns")
	}
	for _, col := range c.cols[1:] {
		if col.rows != c.cols[0].rows {
			return fmt.Errorf("column %q has %d rows but column %q has %d", col.name, col.rows, c.cols[0].name, c.cols[0].rows)
		}
	}
	return nil
}

// Table is an Arrow IPC file read back into Go slices.
type Table struct {
	path  string
	rows  int
	names []string
	types map[string]string
	vals  map[string]any // []int64, ..., []string, fixed, or error
	meta  map[string]string
}

type fixed struct {
	v     []float32
	width int
}

// ReadArrow reads a whole Arrow IPC file. Columns of the types Columns
// writes (string also as large_string) can be fetched by name; other
// columns are listed by Names but their accessors return an error.
func ReadArrow(path string) (t *Table, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return readArrow(path, f, st.Size())
}

// readArrow reads an Arrow IPC file of size bytes from f; path names it
// in errors.
func readArrow(path string, f ipc.ReadAtSeeker, size int64) (t *Table, err error) {
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, fmt.Errorf("read %s: malformed Arrow file: %v", path, p)
		}
	}()
	if err := checkFooter(f, size); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	mem := &boundedAllocator{Allocator: memory.DefaultAllocator, max: max(256*size, 1<<20)}
	r, err := ipc.NewFileReader(f, ipc.WithAllocator(mem))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer r.Close()
	schema := r.Schema()
	t = &Table{path: path, types: map[string]string{}, vals: map[string]any{}, meta: map[string]string{}}
	md := schema.Metadata()
	for i, k := range md.Keys() {
		t.meta[k] = md.Values()[i]
	}
	for _, fl := range schema.Fields() {
		if _, dup := t.types[fl.Name]; dup {
			return nil, fmt.Errorf("read %s: column name %q appears twice", path, fl.Name)
		}
		t.names = append(t.names, fl.Name)
		t.types[fl.Name] = fl.Type.String()
	}
	for b := 0; b < r.NumRecords(); b++ {
		rec, err := r.RecordAt(b)
		if err != nil {
			return nil, fmt.Errorf("read %s: record batch %d: %w", path, b, err)
		}
		for i, name := range t.names {
			t.vals[name] = appendColumn(t.vals[name], rec.Column(i), name)
		}
		t.rows += int(rec.NumRows())
		rec.Release()
	}
	for _, name := range t.names {
		if t.vals[name] == nil { // no batches: an empty column
			t.vals[name] = appendColumn(nil, array.MakeArrayOfNull(memory.DefaultAllocator, schema.Field(schema.FieldIndices(name)[0]).Type, 0), name)
		}
	}
	return t, nil
}

// appendColumn appends the values of a to acc (nil, a slice, or an error).
func appendColumn(acc any, a arrow.Array, name string) any {
	if err, ok := acc.(error); ok {
		return err
	}
	if a.NullN() > 0 {
		return fmt.Errorf("column %q has %d nulls", name, a.NullN())
	}
	switch a := a.(type) {
	case *array.Int64:
		return appendTo(acc, a.Int64Values())
	case *array.Int32:
		return appendTo(acc, a.Int32Values())
	case *array.Uint8:
		return appendTo(acc, a.Uint8Values())
	case *array.Float32:
		return appendTo(acc, a.Float32Values())
	case *array.Float64:
		return appendTo(acc, a.Float64Values())
	case *array.String:
		s, _ := acc.([]string)
		for i := 0; i < a.Len(); i++ {
			s = append(s, a.Value(i))
		}
		return s
	case *array.LargeString:
		s, _ := acc.([]string)
		for i := 0; i < a.Len(); i++ {
			s = append(s, a.Value(i))
		}
		return s
	case *array.FixedSizeList:
		child, ok := a.ListValues().(*array.Float32)
		if !ok {
			break
		}
		w := int(a.DataType().(*arrow.FixedSizeListType).Len())
		off := a.Data().Offset()
		if child.NullN() > 0 {
			return fmt.Errorf("column %q has null vector elements", name)
		}
		fx, _ := acc.(fixed)
		fx.width = w
		fx.v = append(fx.v, child.Float32Values()[off*w:(off+a.Len())*w]...)
		return fx
	}
	return fmt.Errorf("column %q has type %s, which Table does not read", name, a.DataType())
}

// boundedAllocator refuses (by panicking, which ReadArrow recovers)
// allocations out of all proportion to the file, as a corrupt buffer length
// would request: the Arrow reader allocates before it reads, and an
// allocation too large for memory is a fatal error, not a panic.
type boundedAllocator struct {
	memory.Allocator
	max int64
}

func (a *boundedAllocator) Allocate(size int) []byte {
	a.check(size)
	return a.Allocator.Allocate(size)
}

func (a *boundedAllocator) Reallocate(size int, b []byte) []byte {
	a.check(size)
	return a.Allocator.Reallocate(size, b)
}

func (a *boundedAllocator) check(size int) {
	if int64(size) > a.max {
		panic(fmt.Sprintf("buffer of %d bytes is implausible for the file size", size))
	}
}

func appendTo[T any](acc any, v []T) any {
	s, _ := acc.([]T)
	return append(s, v...)
}

// NumRows is the number of rows.
func (t *Table) NumRows() int { return t.rows }

// Names are the column names in order.
func (t *Table) Names() []string { return append([]string(nil), t.names...) }

// Type is the Arrow type of a column as Arrow prints it ("int64",
// "fixed_size_list<item: float32, nullable>[3]"), or "" if there is none.
func (t *Table) Type(name string) string { return t.types[name] }

// Metadata is the schema's key/value metadata.
func (t *Table) Metadata() map[string]string {
	m := make(map[string]string, len(t.meta))
	for k, v := range t.meta {
		m[k] = v
	}
	return m
}

func get[T any](t *Table, name, want string) (T, error) {
	var zero T
	v, ok := t.vals[name]
	if !ok {
		return zero, fmt.Errorf("read %s: no column %q", t.path, name)
	}
	if err, ok := v.(error); ok {
		return zero, fmt.Errorf("read %s: %w", t.path, err)
	}
	x, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("read %s: column %q has type %s, not %s", t.path, name, t.types[name], want)
	}
	return x, nil
}

// Int64 returns an int64 column.
func (t *Table) Int64(name string) ([]int64, error) { return get[[]int64](t, name, "int64") }

// Int32 returns an int32 column.
func (t *Table) Int32(name string) ([]int32, error) { return get[[]int32](t, name, "int32") }

// Uint8 returns a uint8 column.
func (t *Table) Uint8(name string) ([]uint8, error) { return get[[]uint8](t, name, "uint8") }

// Float32 returns a float32 column.
func (t *Table) Float32(name string) ([]float32, error) { return get[[]float32](t, name, "float32") }

// Float64 returns a float64 column.
func (t *Table) Float64(name string) ([]float64, error) { return get[[]float64](t, name, "float64") }

// String returns a string column.
func (t *Table) String(name string) ([]string, error) { return get[[]string](t, name, "utf8") }

// FixedFloat32 returns a FixedSizeList<float32> column as rows*width values.
func (t *Table) FixedFloat32(name string) (v []float32, width int, err error) {
	fx, err := get[fixed](t, name, "fixed_size_list<float32>")
	return fx.v, fx.width, err
}
