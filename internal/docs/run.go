package docs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/siamese-pipeline/siamese/artifacts"
)

// SmallRun runs the small documented run with siamese and returns the
// small-run file's text: the command and the last line it printed on
// stderr (the quality gate's verdict).
func SmallRun(siamese func(args ...string) (stdout, stderr string, code int)) (string, error) {
	_, errOut, code := siamese(SmallRunArgs...)
	if code != 0 && code != 3 {
		return "", fmt.Errorf("%s: exit %d\n%s", Command(SmallRunArgs), code, errOut)
	}
	lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n")
	return Command(SmallRunArgs) + "\n" + lines[len(lines)-1] + "\n", nil
}

// Score writes dir/batch.npy from the small run's images (artifacts root
// small) and scores it with siamese, run in dir; it returns the score
// file's text: the command and the table it printed.
func Score(dir, small string, siamese func(args ...string) (stdout, stderr string, code int)) (string, error) {
	px, shape, err := artifacts.ReadNPY[uint8](filepath.Join(small, "ingest", "images.npy"))
	if err != nil {
		return "", err
	}
	if len(shape) != 3 {
		return "", fmt.Errorf("images.npy: shape %v", shape)
	}
	size := shape[1] * shape[2]
	var batch []uint8
	for _, r := range ScoreRows {
		if r >= shape[0] {
			return "", fmt.Errorf("images.npy has %d images, no row %d", shape[0], r)
		}
		batch = append(batch, px[r*size:(r+1)*size]...)
	}
	if err := artifacts.WriteNPY(filepath.Join(dir, "batch.npy"), batch, len(ScoreRows), shape[1], shape[2]); err != nil {
		return "", err
	}
	out, errOut, code := siamese(ScoreArgs...)
	if code != 0 {
		return "", errors.New(Command(ScoreArgs) + ": " + errOut)
	}
	return Command(ScoreArgs) + "\n" + out, nil
}

// Swap replaces the argument from by to.
func Swap(args []string, from, to string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if a == from {
			out[i] = to
		}
	}
	return out
}

// Dag returns the dag file's text from what `siamese dag` printed: its
// STAGE and DEPS columns.
func Dag(out string) (string, error) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	cut := strings.Index(lines[0], "OUTS")
	if !strings.HasPrefix(lines[0], "STAGE") || cut < 0 {
		return "", fmt.Errorf("siamese dag printed %q, want a STAGE DEPS OUTS table", lines[0])
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(strings.TrimRight(l[:min(cut, len(l))], " ") + "\n")
	}
	return b.String(), nil
}
