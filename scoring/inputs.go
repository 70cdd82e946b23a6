package scoring

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/imageio"
)

// BatchSize is how many images Read hands over at once.
const BatchSize = 4096

// input is one thing to score: an image file, or a .npy of images.
type input struct {
	path string
	npy  bool
}

// Read prepares the images that paths name, in order, and hands them to
// fn a batch at a time: their names and size×size pixels each. A path is
// an image file (PNG or JPEG), a directory (every image file under it,
// in lexical order; other files are ignored) or a .npy of uint8 images
// (N, size, size), whose images are named path[i]. Image files are decoded
// and resized by imageio, several at once.
func Read(ctx context.Context, paths []string, pre Preprocess, fn func(names []string, pixels []uint8) error) error {
	var inputs []input
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return err
		}
		switch {
		case info.IsDir():
			n := len(inputs)
			err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if path != p && strings.HasPrefix(d.Name(), ".") {
					if d.IsDir() {
						return filepath.SkipDir
					}
					return nil
				}
				if !d.IsDir() && imageio.IsImage(path) {
					inputs = append(inputs, input{path: path})
				}
				return nil
			})
			if err != nil {
				return err
			}
			if len(inputs) == n {
				return fmt.Errorf("%s: no image files (%s) in it", p, strings.Join(imageio.Exts, ", "))
			}
		case strings.EqualFold(filepath.Ext(p), ".npy"):
			inputs = append(inputs, input{path: p, npy: true})
		case imageio.IsImage(p):
			inputs = append(inputs, input{path: p})
		default:
			return fmt.Errorf("%s: not an image file (%s), a directory or a .npy", p, strings.Join(imageio.Exts, ", "))
		}
	}
	px := pre.ImageSize * pre.ImageSize
	for i := 0; i < len(inputs); {
		if err := ctx.Err(); err != nil {
			return err
		}
		if inputs[i].npy {
			if err := readNPY(ctx, inputs[i].path, pre.ImageSize, fn); err != nil {
				return err
			}
			i++
			continue
		}
		// A batch of consecutive image files, decoded in parallel.
		j := i
		for j < len(inputs) && !inputs[j].npy && j-i < BatchSize {
			j++
		}
		files := inputs[i:j]
		names, pixels := make([]string, len(files)), make([]uint8, len(files)*px)
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(runtime.GOMAXPROCS(0))
		for k, f := range files {
			names[k] = f.path
			g.Go(func() error {
				if err := gctx.Err(); err != nil {
					return err
				}
				img, err := imageio.Load(f.path, pre.ImageSize, pre.Filter)
				if err != nil {
					return err
				}
				copy(pixels[k*px:(k+1)*px], img)
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if err := fn(names, pixels); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// readNPY hands over the images of a .npy of uint8 (N, size, size).
func readNPY(ctx context.Context, path string, size int, fn func(names []string, pixels []uint8) error) error {
	f, err := artifacts.OpenNPY(path)
	if err != nil {
		return err
	}
	defer f.Close()
	shape := f.Shape()
	if f.DType() != "uint8" {
		return fmt.Errorf("%s: dtype %s, want uint8 images (N, %d, %d)", path, f.DType(), size, size)
	}
	if len(shape) != 3 || shape[1] != size || shape[2] != size {
		return fmt.Errorf("%s: shape %v, want uint8 images (N, %d, %d), the model's image size", path, shape, size, size)
	}
	px := size * size
	buf := make([]uint8, min(shape[0], BatchSize)*px)
	for i := 0; i < shape[0]; i += BatchSize {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(BatchSize, shape[0]-i)
		if err := artifacts.ReadNPYAt(f, buf[:n*px], int64(i)*int64(px)); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		names := make([]string, n)
		for k := range names {
			names[k] = fmt.Sprintf("%s[%d]", path, i+k)
		}
		if err := fn(names, buf[:n*px]); err != nil {
			return err
		}
	}
	return nil
}
