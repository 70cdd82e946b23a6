// Package ingest is the pipeline's first stage: it finds (or downloads)
// Fashion-MNIST or MNIST and writes the whole dataset, train then test, as
// images.npy and labels.npy — exactly np.concatenate of the parts Keras's
// load_data() returns.
package ingest

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

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

func (stage) Spec() pipeline.Spec {
	return pipeline.Spec{
		Version: "2",
		Params: []pipeline.Param{
			{Name: "source", Default: "", Doc: "directory holding the dataset files (the four IDX .gz files as Keras names them, or mnist.npz for mnist); empty: search the Debian dataset directory, the Keras cache, this pipeline's cache, then download"},
			{Name: "dataset", Default: "fashion", Doc: `"fashion" (Fashion-MNIST) or "mnist"`, Choices: slices.Sorted(maps.Keys(datasets))},
			{Name: "cache", Default: "", Doc: "download cache directory; empty: the user cache directory's siamese/"},
			{Name: "mirror", Default: "", Doc: "base URL to download from; empty: the dataset's Keras mirror (" + kerasMirror + ")"},
		},
		Outputs: []string{OutImages, OutLabels, OutClasses},

		Resources: resources, // resources.go
	}
}

func (stage) Run(ctx context.Context, env *runner.Env) error {
	ds, ok := datasets[env.Params.String("dataset")]
	if !ok {
		return fmt.Errorf("unknown dataset %q (want one of %v)", env.Params.String("dataset"), slices.Sorted(maps.Keys(datasets)))
	}
	cache, err := cacheDir(env.Params.String("cache"))
	if err != nil {
		return err
	}
	mirror := env.Params.String("mirror")
	if mirror == "" {
		mirror = ds.mirror
	}
	src, err := resolve(ctx, ds, env.Params.String("source"), cache, mirror, env.Log)
	if err != nil {
		return err
	}
	env.Log.Info("dataset source", "dataset", ds.name, "source", src.kind, "dir", src.dir)
	parts, err := src.load(ds)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := parts.write(env.Out(OutImages), env.Out(OutLabels)); err != nil {
		return err
	}
	if err := os.WriteFile(env.Out(OutClasses), []byte(strings.Join(ds.classes, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	env.Log.Info("wrote dataset", "images", parts.train.n+parts.test.n, "train", parts.train.n, "test", parts.test.n)
	return nil
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
