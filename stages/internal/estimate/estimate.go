// Package estimate helps stages estimate, for the runner's check before a
// run, the sizes of the .npy and other files they write and read.
package estimate

import "github.com/siamese-pipeline/siamese/pipeline"

// NPYHeader is the size of the header numpy.save (and artifacts) write
// for the shapes here (numpy pads the header to a multiple of 64 bytes).
const NPYHeader = 128

// Slack is what a stage takes beside its arrays: buffers, the Go runtime,
// plots. It keeps small estimates from looking exact.
const Slack = 64 << 20

// NPY is the size of a .npy file of the given element size and shape.
func NPY(elem int64, shape ...int64) int64 {
	return pipeline.AddSize(NPYHeader, pipeline.MulSize(append([]int64{elem}, shape...)...))
}

// Rows is how many rows of rowBytes a .npy file of size bytes holds, and
// whether size was known.
func Rows(in pipeline.Sizes, name string, rowBytes int64) (int64, bool) {
	size, ok := in[name]
	if !ok || rowBytes <= 0 {
		return 0, false
	}
	return max(size-NPYHeader, 0) / rowBytes, true
}

// Sum adds the sizes of the named inputs that are known.
func Sum(in pipeline.Sizes, names ...string) int64 {
	var s int64
	for _, n := range names {
		s = pipeline.AddSize(s, in[n])
	}
	return s
}
