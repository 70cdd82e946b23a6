// Package ingest is the pipeline's first stage: it finds (or downloads)
// Fashion-MNIST or MNIST and writes the whole dataset, train then test, as
// images.npy and labels.npy — exactly np.concatenate of the parts Keras's
// load_data() returns — or reads a folder of class folders of images
// (folder.go). It reports the files it read to the runner as tracked
// sources, so that a changed, added or removed file reruns it.
package ingest

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/siamese-pipeline/siamese/imageio"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/runner"
)

// Outputs.
const (
	OutImages  = "images.npy"
	OutLabels  = "labels.npy"
	OutClasses = "classes.txt" // the class names, one a line, in label order
)

type stage struct{}

// New returns the ingest stage.
func New() runner.Stage { return stage{} }

// DatasetFolder is the dataset param's value for a folder of class
// folders of images (folder.go).
const DatasetFolder = "folder"

// datasetNames are the dataset param's choices.
func datasetNames() []string {
	return slices.Sorted(slices.Values(append(slices.Collect(maps.Keys(datasets)), DatasetFolder)))
}

func (stage) Spec() pipeline.Spec {
	return pipeline.Spec{
		Version: "3",
		Params: []pipeline.Param{
			{Name: "source", Default: "", Doc: "directory holding the dataset files (the four IDX .gz files as Keras names them, or mnist.npz for mnist; for folder, DIR/<class>/*.png); empty: search the Debian dataset directory, the Keras cache, this pipeline's cache, then download"},
			{Name: "dataset", Default: "fashion", Doc: `"fashion" (Fashion-MNIST), "mnist", or "folder" (source: a folder of class folders of PNG or JPEG images)`, Choices: datasetNames()},
			{Name: "cache", Default: "", Doc: "download cache directory; empty: the user cache directory's siamese/"},
			{Name: "mirror", Default: "", Doc: "base URL to download from; empty: the dataset's Keras mirror (" + kerasMirror + ")"},
			{Name: "image_size", Default: 28, Doc: "side of the square grayscale images; a folder dataset's images are resized to it (fashion and mnist are 28)", Range: "[1, 1024]"},
			{Name: "filter", Default: "bilinear", Doc: "resampling filter that resizes a folder dataset's images", Choices: imageio.FilterNames()},
			{Name: "on_bad_image", Default: BadImageError, Doc: `a folder dataset's file that is not a readable image: "error" fails the stage naming it, "skip" leaves it out with a warning`, Choices: []string{BadImageError, BadImageSkip}},
		},
		Outputs: []string{OutImages, OutLabels, OutClasses},
		Check:   checkParams,
		// The source folder's layout, before anything runs (layout.go).
		Preflight: preflight,

		Resources: resources, // resources.go
	}
}

// checkParams checks the rules across params: a folder dataset needs its
// folder, and the published datasets have their own image size.
func checkParams(p pipeline.Params) error {
	name, size := p.String("dataset"), p.Int("image_size")
	if name == DatasetFolder {
		if p.String("source") == "" {
			return fmt.Errorf("dataset %s needs source: the folder holding one folder of images per class", DatasetFolder)
		}
		return nil
	}
	if ds := datasets[name]; ds != nil && size != ds.rows {
		return fmt.Errorf("image_size %d: %s's images are %d×%d (image_size resizes folder datasets only)", size, name, ds.rows, ds.cols)
	}
	return nil
}

func (stage) Run(ctx context.Context, env *runner.Env) error {
	src, err := open(ctx, env)
	if err != nil {
		return err
	}
	env.Log.Info("dataset source", "dataset", env.Params.String("dataset"), "source", src.kind, "dir", src.dir)
	for _, p := range src.paths() {
		if err := env.Track(p); err != nil {
			return err
		}
	}
	d, err := src.read(ctx)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.write(env.Out(OutImages), env.Out(OutLabels)); err != nil {
		return err
	}
	if err := os.WriteFile(env.Out(OutClasses), []byte(strings.Join(d.classes, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	if d.written != nil {
		d.written(env.Out(OutImages))
	}
	args := []any{"images", d.n(), "classes", len(d.classes)}
	if len(d.parts) == 2 {
		args = append(args, "train", d.parts[0].n, "test", d.parts[1].n)
	}
	env.Log.Info("wrote dataset", args...)
	return nil
}

// open finds the dataset the params name, and its reader.
func open(ctx context.Context, env *runner.Env) (*source, error) {
	p := env.Params
	if p.String("dataset") == DatasetFolder {
		cache, err := env.CacheDir()
		if err != nil {
			env.Log.Warn("no cache of decoded images: decoding every image", "err", err)
			cache = ""
		}
		return &source{kind: "params.source", dir: p.String("source"), reader: folderReader{
			dir: p.String("source"), size: p.Int("image_size"), filter: p.String("filter"),
			skipBad: p.String("on_bad_image") == BadImageSkip, log: env.Log, cache: cache, tracked: env.Source,
		}}, nil
	}
	ds, ok := datasets[p.String("dataset")]
	if !ok {
		return nil, fmt.Errorf("unknown dataset %q (want one of %v)", p.String("dataset"), datasetNames())
	}
	cache, err := cacheDir(p.String("cache"))
	if err != nil {
		return nil, err
	}
	mirror := p.String("mirror")
	if mirror == "" {
		mirror = ds.mirror
	}
	return resolve(ctx, ds, p.String("source"), cache, mirror, env.Log)
}

// cacheDir is the cache param, or the user cache directory's siamese/.
func cacheDir(param string) (string, error) {
	if param != "" {
		return param, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set the cache param): %w", err)
	}
	return filepath.Join(base, "siamese"), nil
}
