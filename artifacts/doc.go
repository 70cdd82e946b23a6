// Package artifacts reads and writes the files the pipeline exchanges with
// its Python users, and reads the original dataset files:
//
//   - NumPy .npy arrays (uint8, int32, int64, float32, float64): whole-file
//     ReadNPY/WriteNPY, the streaming NPYWriter for arrays too large to hold
//     twice, and NPYFile/ReadNPYAt for random access into multi-GB files.
//     Files are written exactly as numpy.save writes them (format 1.0,
//     little-endian, C order, header padded to 64 bytes).
//   - Apache Arrow IPC files (the "feather v2" file format, uncompressed so
//     that every Arrow implementation can read them): Columns/WriteArrow and
//     ReadArrow/Table.
//   - IDX files, the format of MNIST and Fashion-MNIST, plain or gzipped.
//
// Writers create the file under a temporary name in the destination
// directory and rename it into place only once it is complete, so a file
// that exists under its final name is never partial.
//
// Every error names the file it concerns.
package artifacts
