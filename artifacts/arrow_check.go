package artifacts

import (
	"encoding/binary"
	"fmt"

	flatbuffers "github.com/google/flatbuffers/go"
)

// The Arrow reader trusts the lengths in a file's flatbuffer footer: a
// corrupt footer announcing 2^34 child fields makes it allocate that many
// before it reads one (a fatal out-of-memory, not an error). checkFooter
// walks the parts of the footer the reader turns into Go values (the
// schema's fields, their children and metadata, and the record batch
// blocks) and refuses any vector its bytes cannot hold, or a block beyond
// the file, before the reader sees them. Malformed offsets make the
// flatbuffers accessors panic, which readArrow recovers.

// Field slots of the flatbuffer tables (Footer, Schema, Field, KeyValue in
// Arrow's format/File.fbs and Schema.fbs): 4 + 2·index.
const (
	footerSchema, footerDictionaries, footerRecordBatches, footerMetadata = 6, 8, 10, 12
	schemaFields, schemaMetadata, schemaFeatures                          = 6, 8, 10
	fieldName, fieldChildren, fieldMetadata                               = 4, 14, 16
	keyValueKey, keyValueValue                                            = 4, 6
	blockSize                                                             = 24 // struct Block: offset, metaDataLength (padded), bodyLength
	maxFieldDepth                                                         = 64
)

type fbTable struct{ flatbuffers.Table }

// vector returns the start and length of the vector in slot, checking
// that n elements of elem bytes fit in the buffer.
func (t fbTable) vector(slot flatbuffers.VOffsetT, elem int, what string) (start, n int, err error) {
	o := flatbuffers.UOffsetT(t.Offset(slot))
	if o == 0 {
		return 0, 0, nil
	}
	start, n = int(t.Vector(o)), t.VectorLen(o)
	if start < 0 || start > len(t.Bytes) || n < 0 || n > (len(t.Bytes)-start)/elem {
		return 0, 0, fmt.Errorf("malformed Arrow footer: %s announces %d entries, more than its %d bytes hold", what, n, len(t.Bytes))
	}
	return start, n, nil
}

// table returns the table the offset at pos points to.
func (t fbTable) tableAt(pos int) fbTable {
	return fbTable{flatbuffers.Table{Bytes: t.Bytes, Pos: t.Indirect(flatbuffers.UOffsetT(pos))}}
}

func (t fbTable) child(slot flatbuffers.VOffsetT) (fbTable, bool) {
	o := flatbuffers.UOffsetT(t.Offset(slot))
	if o == 0 {
		return fbTable{}, false
	}
	return t.tableAt(int(t.Pos + o)), true
}

// checkFooter checks the footer of an Arrow IPC file of size bytes.
// Files too short to hold one are left to the reader to refuse.
func checkFooter(r interface {
	ReadAt([]byte, int64) (int, error)
}, size int64) error {
	const tail = 10 // int32 footer length, "ARROW1"
	if size < tail+8 {
		return nil
	}
	var t [tail]byte
	if _, err := r.ReadAt(t[:], size-tail); err != nil {
		return nil
	}
	n := int64(int32(binary.LittleEndian.Uint32(t[:4])))
	if n <= 0 || n > size-tail {
		return nil
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, size-tail-n); err != nil {
		return nil
	}
	footer := fbTable{flatbuffers.Table{Bytes: buf, Pos: flatbuffers.GetUOffsetT(buf)}}
	for _, slot := range []flatbuffers.VOffsetT{footerDictionaries, footerRecordBatches} {
		start, k, err := footer.vector(slot, blockSize, "the record batch list")
		if err != nil {
			return err
		}
		for i := range k {
			b := buf[start+i*blockSize:]
			off, meta, body := int64(binary.LittleEndian.Uint64(b)), int64(int32(binary.LittleEndian.Uint32(b[8:]))), int64(binary.LittleEndian.Uint64(b[16:]))
			if off < 0 || meta < 0 || body < 0 || off > size || meta > size-off || body > size-off-meta {
				return fmt.Errorf("malformed Arrow footer: block %d (offset %d, %d + %d bytes) lies beyond the file's %d bytes", i, off, meta, body, size)
			}
		}
	}
	if err := checkMetadata(footer, footerMetadata); err != nil {
		return err
	}
	schema, ok := footer.child(footerSchema)
	if !ok {
		return nil
	}
	if _, _, err := schema.vector(schemaFeatures, 8, "the schema's features"); err != nil {
		return err
	}
	if err := checkMetadata(schema, schemaMetadata); err != nil {
		return err
	}
	return checkFields(schema, schemaFields, 0)
}

// checkFields checks the vector of Field tables in slot, and their children.
func checkFields(t fbTable, slot flatbuffers.VOffsetT, depth int) error {
	if depth > maxFieldDepth {
		return fmt.Errorf("malformed Arrow footer: fields nested over %d deep", maxFieldDepth)
	}
	start, n, err := t.vector(slot, 4, "a field list")
	if err != nil {
		return err
	}
	for i := range n {
		f := t.tableAt(start + 4*i)
		if _, _, err := f.vector(fieldName, 1, "a field name"); err != nil {
			return err
		}
		if err := checkMetadata(f, fieldMetadata); err != nil {
			return err
		}
		if err := checkFields(f, fieldChildren, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// checkMetadata checks a vector of KeyValue tables.
func checkMetadata(t fbTable, slot flatbuffers.VOffsetT) error {
	start, n, err := t.vector(slot, 4, "a metadata list")
	if err != nil {
		return err
	}
	for i := range n {
		kv := t.tableAt(start + 4*i)
		for _, s := range []flatbuffers.VOffsetT{keyValueKey, keyValueValue} {
			if _, _, err := kv.vector(s, 1, "a metadata string"); err != nil {
				return err
			}
		}
	}
	return nil
}
