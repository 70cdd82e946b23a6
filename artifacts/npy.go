package artifacts

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/sbinet/npyio/npy"

	"github.com/siamese-pipeline/siamese/internal/atomicfile"
)

// Elem is the set of element types .npy files hold here.
type Elem interface {
	~uint8 | ~int32 | ~int64 | ~float32 | ~float64
}

// dtype is one of the supported numpy element types.
type dtype struct {
	name string // numpy name: "uint8", "float64", ...
	code string // descr without byte order: "u1", "f8", ...
	size int
}

var dtypes = []dtype{
	{"uint8", "u1", 1},
	{"int32", "i4", 4},
	{"int64", "i8", 8},
	{"float32", "f4", 4},
	{"float64", "f8", 8},
}

// dtypeOf is the numpy dtype of T.
func dtypeOf[T Elem]() dtype {
	switch kindOf[T]() {
	case reflect.Uint8:
		return dtypes[0]
	case reflect.Int32:
		return dtypes[1]
	case reflect.Int64:
		return dtypes[2]
	case reflect.Float32:
		return dtypes[3]
	default:
		return dtypes[4]
	}
}

// descr is the numpy descr numpy.save writes for the type ("|u1", "<f8").
func (d dtype) descr() string {
	if d.size == 1 {
		return "|" + d.code
	}
	return "<" + d.code
}

// npyHeader is a parsed and validated .npy header.
type npyHeader struct {
	major     byte
	descr     string // as written in the file
	dt        dtype
	bigEndian bool
	fortran   bool
	shape     []int
	n         int64 // number of elements
	dataOff   int64 // offset of the data from the start of the file
}

func (h *npyHeader) dataBytes() int64 { return h.n * int64(h.dt.size) }

// maxHeaderLen bounds the header dict as numpy does: np.load refuses
// headers over 10000 bytes unless given max_header_size (numpy >= 1.24).
const maxHeaderLen = 10000

// headerDict matches the header dict numpy writes: keys in sorted order,
// each followed by ", ". npyio's parser depends on exactly this layout and
// silently misreads others, so headers must match it before npyio sees them.
var headerDict = regexp.MustCompile(`^\{'descr': '([^']*)', 'fortran_order': (True|False), 'shape': \(((?:[0-9]+, ?)*[0-9]*)\), \} *\n$`)

// readNPYHeader reads and validates the header of a .npy file; r is left at
// the first data byte.
func readNPYHeader(r io.Reader) (*npyHeader, error) {
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		return nil, fmt.Errorf("not a .npy file: %w", noEOF(err))
	}
	if !bytes.Equal(pre[:6], npy.Magic[:]) {
		return nil, errors.New("not a .npy file (no \\x93NUMPY magic)")
	}
	h := &npyHeader{major: pre[6]}
	var hlen int64
	switch h.major {
	case 1:
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			return nil, fmt.Errorf("truncated header: %w", noEOF(err))
		}
		hlen = int64(binary.LittleEndian.Uint16(pre[8:10]))
		h.dataOff = 10
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("truncated header: %w", noEOF(err))
		}
		hlen = int64(binary.LittleEndian.Uint32(b[:]))
		h.dataOff = 12
	default:
		return nil, fmt.Errorf("unsupported .npy format version %d.%d (want 1.0, 2.0 or 3.0)", pre[6], pre[7])
	}
	if hlen > maxHeaderLen {
		return nil, fmt.Errorf("header of %d bytes is larger than numpy allows (%d)", hlen, maxHeaderLen)
	}
	h.dataOff += hlen
	dict := make([]byte, hlen)
	if _, err := io.ReadFull(r, dict); err != nil {
		return nil, fmt.Errorf("truncated header: %w", noEOF(err))
	}
	m := headerDict.FindSubmatch(dict)
	if m == nil {
		return nil, fmt.Errorf("header %q is not a numpy header dict {'descr': ..., 'fortran_order': ..., 'shape': (...), }", truncate(dict, 200))
	}

	// npyio parses the dict. It only knows versions 1 and 2; version 3
	// differs from 2 only in allowing UTF-8 in the dict, so present it as 2.
	var buf bytes.Buffer
	buf.Write(npy.Magic[:])
	buf.Write([]byte{2, 0})
	binary.Write(&buf, binary.LittleEndian, uint32(hlen))
	buf.Write(dict)
	parsed, err := parseWithNpyio(&buf)
	if err != nil {
		return nil, err
	}
	h.descr = parsed.Descr.Type
	h.fortran = parsed.Descr.Fortran
	h.shape = parsed.Descr.Shape
	if h.shape == nil {
		h.shape = []int{}
	}

	// Cross-check npyio's result against the strict match.
	if h.descr != string(m[1]) || h.fortran != (string(m[2]) == "True") {
		return nil, fmt.Errorf("header %q: npyio misparsed descr/fortran_order", truncate(dict, 200))
	}
	var dims []string
	for _, s := range strings.Split(string(m[3]), ",") {
		if s = strings.TrimSpace(s); s != "" {
			dims = append(dims, s)
		}
	}
	if len(dims) != len(h.shape) {
		return nil, fmt.Errorf("header %q: malformed shape", truncate(dict, 200))
	}
	for i, s := range dims {
		if d, err := strconv.Atoi(s); err != nil || d != h.shape[i] {
			return nil, fmt.Errorf("header %q: malformed shape", truncate(dict, 200))
		}
	}

	var ok bool
	h.dt, h.bigEndian, ok = parseDescr(h.descr)
	if !ok {
		if strings.Trim(h.descr, "|<>=") == "O" {
			return nil, fmt.Errorf("object dtype %q: the array holds pickled Python objects, which are never loaded", h.descr)
		}
		return nil, fmt.Errorf("unsupported dtype %q (supported: uint8, int32, int64, float32, float64)", h.descr)
	}
	h.n, ok = numElems(h.shape, h.dt.size)
	if !ok {
		return nil, fmt.Errorf("shape %s is too large", shapeRepr(h.shape))
	}
	return h, nil
}

// parseWithNpyio runs npyio's header parser, turning its panics on
// malformed input into errors.
func parseWithNpyio(r io.Reader) (h npy.Header, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed header: %v", p)
		}
	}()
	rd, err := npy.NewReader(r)
	if err != nil {
		return h, fmt.Errorf("malformed header: %w", err)
	}
	return rd.Header, nil
}

// parseDescr maps a numpy descr such as "<f8" to a supported dtype.
func parseDescr(descr string) (dt dtype, bigEndian, ok bool) {
	if len(descr) == 3 {
		switch descr[0] {
		case '<', '|':
		case '>':
			bigEndian = true
		default:
			return dt, false, false
		}
		descr = descr[1:]
	}
	for _, d := range dtypes {
		if d.code == descr {
			// '|' (not applicable) is only valid for single bytes.
			if d.size == 1 {
				bigEndian = false
			}
			return d, bigEndian, true
		}
	}
	return dt, false, false
}

// numElems is the product of shape; ok is false if shape holds more than
// fits in an int64 count of bytes.
func numElems(shape []int, size int) (n int64, ok bool) {
	n = 1
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d != 0 && n > math.MaxInt64/int64(size)/int64(d) {
			return 0, false
		}
		n *= int64(d)
	}
	return n, true
}

// checkSize compares the file size with what the header says.
func (h *npyHeader) checkSize(size int64) error {
	want := h.dataOff + h.dataBytes()
	switch {
	case size < want:
		return fmt.Errorf("truncated: %s %s needs %d data bytes, file has %d", h.dt.name, shapeRepr(h.shape), h.dataBytes(), max(size-h.dataOff, 0))
	case size > want:
		return fmt.Errorf("%d unexpected bytes after the %d data bytes of %s %s", size-want, h.dataBytes(), h.dt.name, shapeRepr(h.shape))
	}
	return nil
}

// shapeRepr formats shape as Python does: (), (3,), (2, 3).
func shapeRepr(shape []int) string {
	if len(shape) == 1 {
		return fmt.Sprintf("(%d,)", shape[0])
	}
	s := make([]string, len(shape))
	for i, d := range shape {
		s[i] = strconv.Itoa(d)
	}
	return "(" + strings.Join(s, ", ") + ")"
}

// encodeNPYHeader renders h as numpy.save does: format 1.0 (2.0 if the dict
// does not fit), spare room to grow the first axis, and padding to a
// multiple of 64 bytes.
func encodeNPYHeader(h npy.Header) []byte {
	fortran := "False"
	if h.Descr.Fortran {
		fortran = "True"
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", h.Descr.Type, fortran, shapeRepr(h.Descr.Shape))
	if s := h.Descr.Shape; len(s) > 0 {
		const growthAxisMaxDigits = 21 // numpy's GROWTH_AXIS_MAX_DIGITS
		grow := s[0]
		if h.Descr.Fortran {
			grow = s[len(s)-1]
		}
		dict += strings.Repeat(" ", max(growthAxisMaxDigits-len(strconv.Itoa(grow)), 0))
	}
	prefix := 10
	if len(dict)+1+64 > math.MaxUint16 {
		prefix = 12
	}
	pad := 64 - (prefix+len(dict)+1)%64
	hlen := len(dict) + pad + 1
	b := make([]byte, 0, prefix+hlen)
	b = append(b, npy.Magic[:]...)
	if prefix == 10 {
		b = append(b, 1, 0)
		b = binary.LittleEndian.AppendUint16(b, uint16(hlen))
	} else {
		b = append(b, 2, 0)
		b = binary.LittleEndian.AppendUint32(b, uint32(hlen))
	}
	b = append(b, dict...)
	b = append(b, bytes.Repeat([]byte{' '}, pad)...)
	return append(b, '\n')
}

// ReadNPY reads a whole .npy file. The file's dtype must be T's exactly.
// Big-endian files are converted; Fortran-order files are transposed to C
// order (which takes a second copy of the data).
func ReadNPY[T Elem](path string) (data []T, shape []int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	data, shape, err = decodeNPY[T](f, size)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, shape, nil
}

// decodeNPY decodes a .npy stream of size bytes (-1: unknown).
func decodeNPY[T Elem](r io.Reader, size int64) ([]T, []int, error) {
	h, err := readNPYHeader(r)
	if err != nil {
		return nil, nil, err
	}
	if want := dtypeOf[T](); h.dt != want {
		return nil, nil, fmt.Errorf("dtype is %s (%q), want %s", h.dt.name, h.descr, want.name)
	}
	if size >= 0 {
		if err := h.checkSize(size); err != nil {
			return nil, nil, err
		}
	}
	if h.n > math.MaxInt {
		return nil, nil, fmt.Errorf("shape %s is too large", shapeRepr(h.shape))
	}
	var data []T
	if size >= 0 {
		data = make([]T, h.n)
		if n, err := io.ReadFull(r, asBytes(data)); err != nil {
			return nil, nil, fmt.Errorf("truncated: %s %s needs %d data bytes, got %d: %w", h.dt.name, shapeRepr(h.shape), h.dataBytes(), n, noEOF(err))
		}
	} else {
		// Unknown size (not a regular file): do not trust the header with
		// an allocation before the bytes have arrived.
		b, err := io.ReadAll(io.LimitReader(r, h.dataBytes()+1))
		if err != nil {
			return nil, nil, err
		}
		if int64(len(b)) != h.dataBytes() {
			return nil, nil, h.checkSize(h.dataOff + int64(len(b)))
		}
		data = make([]T, h.n)
		copy(asBytes(data), b)
	}
	raw := asBytes(data)
	if h.bigEndian == hostLittleEndian {
		swapBytes(raw, h.dt.size)
	}
	if h.fortran && len(h.shape) > 1 {
		data = fortranToC(data, h.shape)
	}
	return data, h.shape, nil
}

// fortranToC returns the C-order copy of src, which holds an array of the
// given shape in Fortran order.
func fortranToC[T any](src []T, shape []int) []T {
	dst := make([]T, len(src))
	nd := len(shape)
	stride := make([]int, nd) // stride of each axis in src
	s := 1
	for k, d := range shape {
		stride[k] = s
		s *= d
	}
	idx := make([]int, nd)
	off := 0
	last := nd - 1
	inner, innerStride := shape[last], stride[last]
	for i := 0; i < len(dst); i += inner {
		// Copy one C-order row (the last axis), then step the other axes.
		for j, o := 0, off; j < inner; j, o = j+1, o+innerStride {
			dst[i+j] = src[o]
		}
		for k := last - 1; k >= 0; k-- {
			idx[k]++
			off += stride[k]
			if idx[k] < shape[k] {
				break
			}
			off -= stride[k] * shape[k]
			idx[k] = 0
		}
	}
	return dst
}

// WriteNPY writes data as a .npy file of the given shape; the product of
// shape must equal len(data) (no shape: a 0-d array of one element).
func WriteNPY[T Elem](path string, data []T, shape ...int) error {
	if n, ok := numElems(shape, elemSize[T]()); !ok || n != int64(len(data)) {
		return fmt.Errorf("write %s: shape %s does not hold %d elements", path, shapeRepr(shape), len(data))
	}
	w, err := CreateNPY[T](path, shape...)
	if err != nil {
		return err
	}
	if err := w.Write(data); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// NPYWriter streams an array of a known shape into a .npy file. The file
// appears under its name only when Close succeeds.
type NPYWriter[T Elem] struct {
	path    string
	f       *atomicfile.File
	bw      *bufio.Writer
	shape   []int
	want, n int64
	err     error // sticky
	scratch []byte
}

const chunkBytes = 1 << 20

// CreateNPY starts a .npy file holding an array of the given shape. Write
// then appends elements in C order, and Close checks that exactly
// product(shape) elements were written.
func CreateNPY[T Elem](path string, shape ...int) (*NPYWriter[T], error) {
	dt := dtypeOf[T]()
	want, ok := numElems(shape, dt.size)
	if !ok {
		return nil, fmt.Errorf("write %s: invalid shape %s", path, shapeRepr(shape))
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	var h npy.Header
	h.Major, h.Descr.Type, h.Descr.Shape = 1, dt.descr(), shape
	w := &NPYWriter[T]{path: path, f: f, bw: bufio.NewWriterSize(f, chunkBytes), shape: append([]int(nil), shape...), want: want}
	if _, err := w.bw.Write(encodeNPYHeader(h)); err != nil {
		f.Abort()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return w, nil
}

// Write appends v. It fails if the array would hold more elements than its
// shape; after any failure the writer is unusable and Close removes the file.
func (w *NPYWriter[T]) Write(v []T) error {
	if w.err != nil {
		return w.err
	}
	if int64(len(v)) > w.want-w.n {
		w.err = fmt.Errorf("write %s: %d elements exceed the %d that shape %s holds", w.path, w.n+int64(len(v)), w.want, shapeRepr(w.shape))
		return w.err
	}
	size := elemSize[T]()
	for len(v) > 0 {
		k := min(len(v), chunkBytes/size)
		b := asBytes(v[:k])
		if !hostLittleEndian {
			w.scratch = append(w.scratch[:0], b...)
			swapBytes(w.scratch, size)
			b = w.scratch
		}
		if _, err := w.bw.Write(b); err != nil {
			w.err = fmt.Errorf("write %s: %w", w.path, err)
			return w.err
		}
		w.n += int64(k)
		v = v[k:]
	}
	return nil
}

// Close finishes the file. If fewer elements than the shape holds were
// written, or an earlier Write failed, Close removes the file and returns
// an error.
func (w *NPYWriter[T]) Close() error {
	if w.f == nil {
		return fmt.Errorf("write %s: %w", w.path, os.ErrClosed)
	}
	f := w.f
	w.f = nil
	if w.err == nil && w.n != w.want {
		w.err = fmt.Errorf("write %s: closed after %d of the %d elements of shape %s", w.path, w.n, w.want, shapeRepr(w.shape))
	}
	if w.err != nil {
		f.Abort()
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		f.Abort()
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	if err := f.Commit(); err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	return nil
}

// NPYFile is a .npy file open for random access by ReadNPYAt. It is safe
// for concurrent use by multiple goroutines.
type NPYFile struct {
	path string
	f    *os.File
	h    *npyHeader
}

// OpenNPY opens a .npy file and checks its header against its size.
func OpenNPY(path string) (*NPYFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	h, err := readNPYHeader(bufio.NewReader(f))
	if err == nil {
		var st os.FileInfo
		if st, err = f.Stat(); err == nil {
			err = h.checkSize(st.Size())
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &NPYFile{path: path, f: f, h: h}, nil
}

// Shape is the shape of the array (empty for a 0-d array).
func (f *NPYFile) Shape() []int { return append([]int{}, f.h.shape...) }

// DType is the numpy name of the element type, e.g. "uint8", "float64".
func (f *NPYFile) DType() string { return f.h.dt.name }

// Len is the number of elements.
func (f *NPYFile) Len() int64 { return f.h.n }

// Close closes the file.
func (f *NPYFile) Close() error { return f.f.Close() }

// ReadNPYAt reads len(dst) elements starting at element index elemOffset
// (in C order). T must be the file's dtype. Fortran-order files of more
// than one dimension are refused.
func ReadNPYAt[T Elem](f *NPYFile, dst []T, elemOffset int64) error {
	h := f.h
	if want := dtypeOf[T](); h.dt != want {
		return fmt.Errorf("read %s: dtype is %s, want %s", f.path, h.dt.name, want.name)
	}
	if h.fortran && len(h.shape) > 1 {
		return fmt.Errorf("read %s: random access into a Fortran-order array is not supported; use ReadNPY", f.path)
	}
	if elemOffset < 0 || elemOffset > h.n || int64(len(dst)) > h.n-elemOffset {
		return fmt.Errorf("read %s: elements [%d, %d) out of range [0, %d)", f.path, elemOffset, elemOffset+int64(len(dst)), h.n)
	}
	raw := asBytes(dst)
	n, err := f.f.ReadAt(raw, h.dataOff+elemOffset*int64(h.dt.size))
	if n < len(raw) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("read %s: %w", f.path, err)
	}
	if h.bigEndian == hostLittleEndian {
		swapBytes(raw, h.dt.size)
	}
	return nil
}

// noEOF turns io.EOF into io.ErrUnexpectedEOF: the callers all expected
// more bytes.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
