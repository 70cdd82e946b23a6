package artifacts

import (
	"encoding/binary"
	"math/bits"
	"reflect"
	"unsafe"
)

var hostLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// elemSize is the size in bytes of one T.
func elemSize[T Elem]() int {
	var z T
	return int(unsafe.Sizeof(z))
}

// asBytes views the memory of v as bytes (host byte order), without copying.
func asBytes[T Elem](v []T) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v)*elemSize[T]())
}

// swapBytes reverses the byte order of each size-byte element of b in place.
func swapBytes(b []byte, size int) {
	switch size {
	case 2:
		for i := 0; i+1 < len(b); i += 2 {
			b[i], b[i+1] = b[i+1], b[i]
		}
	case 4:
		for i := 0; i+3 < len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], bits.ReverseBytes32(binary.LittleEndian.Uint32(b[i:])))
		}
	case 8:
		for i := 0; i+7 < len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], bits.ReverseBytes64(binary.LittleEndian.Uint64(b[i:])))
		}
	}
}

// kindOf is the reflect.Kind underlying T (T may be a named type).
func kindOf[T Elem]() reflect.Kind {
	return reflect.TypeFor[T]().Kind()
}
