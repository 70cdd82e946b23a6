package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// kerasMirror is where Keras's load_data() downloads both datasets from.
const kerasMirror = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

// remoteFile is one file of a dataset as published, with its SHA-256.
type remoteFile struct {
	name   string
	sha256 string // lower-case hex; "" when unknown (then not verified)
}

// dataset describes where a dataset lives and what it must hold.
type dataset struct {
	name string
	// dir is the directory name under the Debian root, the Keras cache
	// (kerasDir) and this pipeline's cache.
	dir      string
	debian   bool   // Debian ships it under debianRoot/dir
	kerasDir string // Keras keeps it under kerasRoot/kerasDir ("" = kerasRoot)
	mirror   string
	// idx are the four IDX files, in the order train images, train labels,
	// test images, test labels. A directory holding all of them (gzipped,
	// or plain without the .gz) is a source.
	idx [4]remoteFile
	// npz, if set, is Keras's single-archive form (mnist.npz), with the
	// members x_train, y_train, x_test, y_test.
	npz *remoteFile
	// download is what a download fetches: idx's files or npz.
	download []remoteFile

	trainN, testN, rows, cols int
	classes                   []string // names, in label order
}

// Search locations, variables so that tests can point them elsewhere.
var (
	// debianRoot is where Debian's dataset-* packages install.
	debianRoot = "/usr/share/datasets"
	// kerasRoot is Keras's dataset cache; "" means ~/.keras/datasets.
	kerasRoot = ""
)

// datasets are the datasets the dataset param names. The hashes of the
// Fashion-MNIST files are those of the original files (as Debian's
// dataset-fashion-mnist ships them and Keras downloads them); mnist.npz's
// is the file_hash Keras's mnist.load_data() checks.
var datasets = map[string]*dataset{
	"fashion": {
		name:     "fashion",
		dir:      "fashion-mnist",
		debian:   true,
		kerasDir: "fashion-mnist",
		mirror:   kerasMirror,
		idx: [4]remoteFile{
			{"train-images-idx3-ubyte.gz", "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"},
			{"train-labels-idx1-ubyte.gz", "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"},
			{"t10k-images-idx3-ubyte.gz", "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"},
			{"t10k-labels-idx1-ubyte.gz", "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"},
		},
		trainN: 60000, testN: 10000, rows: 28, cols: 28,
		classes: []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"},
	},
	"mnist": {
		name:     "mnist",
		dir:      "mnist",
		debian:   false, // Debian has no MNIST package
		kerasDir: "",
		mirror:   kerasMirror,
		// The LeCun file names, accepted in a source directory; they are
		// not downloaded (Keras downloads mnist.npz), so not verified.
		idx: [4]remoteFile{
			{"train-images-idx3-ubyte.gz", ""},
			{"train-labels-idx1-ubyte.gz", ""},
			{"t10k-images-idx3-ubyte.gz", ""},
			{"t10k-labels-idx1-ubyte.gz", ""},
		},
		npz:    &remoteFile{"mnist.npz", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"},
		trainN: 60000, testN: 10000, rows: 28, cols: 28,
		classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
	},
}

func init() {
	for _, ds := range datasets {
		ds.setDownload()
	}
}

func (ds *dataset) setDownload() {
	if ds.npz != nil {
		ds.download = []remoteFile{*ds.npz}
	} else {
		ds.download = ds.idx[:]
	}
}

// source is where the dataset was found, and how to read it.
type source struct {
	kind string // "params.source", "debian", "keras-cache", "cache", "download"
	dir  string // the directory
	reader
}

// resolve finds the dataset: in param (if set, nowhere else), else in the
// Debian directory, the Keras cache, this pipeline's cache (files checked
// against their hashes), else downloads it into the cache from mirror.
func resolve(ctx context.Context, ds *dataset, param, cache, mirror string, log *slog.Logger) (*source, error) {
	if param != "" {
		src, err := find(ds, param)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", param, err)
		}
		src.kind = "params.source"
		return src, nil
	}
	var dirs []struct{ kind, dir string }
	if ds.debian {
		dirs = append(dirs, struct{ kind, dir string }{"debian", filepath.Join(debianRoot, ds.dir)})
	}
	if kr := kerasCache(); kr != "" {
		dirs = append(dirs, struct{ kind, dir string }{"keras-cache", filepath.Join(kr, ds.kerasDir)})
	}
	for _, d := range dirs {
		if src, err := find(ds, d.dir); err == nil {
			src.kind = d.kind
			return src, nil
		}
	}
	dir := filepath.Join(cache, ds.dir)
	missing := verifyCache(ds, dir, log)
	if len(missing) == 0 {
		src, err := find(ds, dir)
		if err != nil {
			return nil, fmt.Errorf("cache %s: %w", dir, err)
		}
		src.kind = "cache"
		return src, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	for _, f := range ds.download {
		if !slices.Contains(missing, f.name) {
			continue // in the cache, and verified
		}
		if err := download(ctx, joinURL(mirror, f.name), filepath.Join(dir, f.name), f.sha256, log); err != nil {
			return nil, err
		}
	}
	src, err := find(ds, dir)
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", dir, err)
	}
	src.kind = "download"
	return src, nil
}

func kerasCache() string {
	if kerasRoot != "" {
		return kerasRoot
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".keras", "datasets")
}

// find looks for the dataset's files in dir: the four IDX files (each
// gzipped, or plain without .gz), else the npz.
func find(ds *dataset, dir string) (*source, error) {
	var idx []string
	var missing []string
	for _, f := range ds.idx {
		p := filepath.Join(dir, f.name)
		if fileExists(p) {
			idx = append(idx, p)
		} else if plain := strings.TrimSuffix(p, ".gz"); plain != p && fileExists(plain) {
			idx = append(idx, plain)
		} else {
			missing = append(missing, f.name)
		}
	}
	if len(missing) == 0 {
		return &source{dir: dir, reader: idxReader{ds: ds, files: idx}}, nil
	}
	if ds.npz != nil {
		if p := filepath.Join(dir, ds.npz.name); fileExists(p) {
			return &source{dir: dir, reader: npzReader{ds: ds, path: p}}, nil
		}
		return nil, fmt.Errorf("neither %s nor %s found", ds.npz.name, strings.Join(missing, ", "))
	}
	return nil, fmt.Errorf("%s not found", strings.Join(missing, ", "))
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// verifyCache returns the download files missing from dir or whose hash
// does not match (logging those).
func verifyCache(ds *dataset, dir string, log *slog.Logger) []string {
	var bad []string
	for _, f := range ds.download {
		p := filepath.Join(dir, f.name)
		ok, err := hashMatches(p, f.sha256)
		if !ok {
			if err == nil {
				log.Warn("cached file does not match its SHA-256; downloading it again", "file", p)
			} else if !errors.Is(err, fs.ErrNotExist) {
				log.Warn("cached file unreadable; downloading it again", "file", p, "err", err)
			}
			bad = append(bad, f.name)
		}
	}
	return bad
}

// hashMatches reports whether the file at p exists and has SHA-256 want
// (any content when want is "").
func hashMatches(p, want string) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	if want == "" {
		return true, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return hex.EncodeToString(h.Sum(nil)) == want, nil
}

func joinURL(base, name string) string {
	return strings.TrimSuffix(base, "/") + "/" + name
}
