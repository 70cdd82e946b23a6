// Package stagetest makes small fixtures for the stages' tests: a tiny
// image dataset, its triplets and split, written as the stages write them.
package stagetest

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/artifacts"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/runner"
)

// Side is the side of the fixture's square images.
const Side = 4

// Data is a fixture written under Dir.
type Data struct {
	Dir      string
	N        int // images
	Triplets int // triplets, of which the first Train are training triplets
	Train    int
}

// Path returns a fixture file's path.
func (d Data) Path(name string) string { return filepath.Join(d.Dir, name) }

// Write writes n Side×Side images of 3 classes (class c is bright in row
// c), per-class triplets of them, and a split into X_train and X_test.
func Write(t *testing.T, n, perClass int) Data {
	t.Helper()
	labels := make([]uint8, n)
	for i := range labels {
		labels[i] = uint8(i % 3)
	}
	return write(t, labels, 3, perClass)
}

// WriteSizes is Write for len(sizes) classes (at least 2) of sizes[c]
// images each, class after class (class c is bright in row c mod Side).
func WriteSizes(t *testing.T, sizes []int, perClass int) Data {
	t.Helper()
	var labels []uint8
	for c, n := range sizes {
		for range n {
			labels = append(labels, uint8(c))
		}
	}
	return write(t, labels, len(sizes), perClass)
}

var classNames = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

func write(t *testing.T, labels []uint8, k, perClass int) Data {
	t.Helper()
	n := len(labels)
	d := Data{Dir: t.TempDir(), N: n, Triplets: k * perClass}
	rng := rand.New(rand.NewPCG(7, 8))
	images := make([]uint8, n*Side*Side)
	byClass := map[int][]int{}
	for i, l := range labels {
		c := int(l)
		byClass[c] = append(byClass[c], i)
		for p := range Side * Side {
			v := rng.IntN(60)
			if p/Side == c%Side {
				v += 180
			}
			images[i*Side*Side+p] = uint8(v)
		}
	}
	var id, class, a, p, q []int64
	for c := range k {
		for range perClass {
			id, class = append(id, int64(len(id))), append(class, int64(c))
			a = append(a, int64(byClass[c][rng.IntN(len(byClass[c]))]))
			p = append(p, int64(byClass[c][rng.IntN(len(byClass[c]))]))
			other := byClass[(c+1+rng.IntN(k-1))%k]
			q = append(q, int64(other[rng.IntN(len(other))]))
		}
	}
	flat := func(rows []int) []float64 {
		var x []float64
		for _, r := range rows {
			for _, img := range []int64{a[r], p[r], q[r]} {
				for _, v := range images[int(img)*Side*Side : int(img+1)*Side*Side] {
					x = append(x, float64(v)/255)
				}
			}
		}
		return x
	}
	perm := rng.Perm(d.Triplets)
	d.Train = d.Triplets * 4 / 5
	train, test := perm[:d.Train], perm[d.Train:]
	toInt64 := func(v []int) []int64 {
		out := make([]int64, len(v))
		for i, x := range v {
			out[i] = int64(x)
		}
		return out
	}
	must(t, artifacts.WriteNPY(d.Path("images.npy"), images, n, Side, Side))
	must(t, artifacts.WriteNPY(d.Path("labels.npy"), labels, n))
	must(t, os.WriteFile(d.Path("classes.txt"), []byte(strings.Join(classNames[:k], "\n")+"\n"), 0o644))
	must(t, artifacts.WriteArrow(d.Path("triplets.arrow"), artifacts.NewColumns().Int64("id", id).Int64("class", class).
		Int64("anchor", a).Int64("positive", p).Int64("negative", q)))
	must(t, artifacts.WriteNPY(d.Path("X_train.npy"), flat(train), len(train), 3, Side*Side))
	must(t, artifacts.WriteNPY(d.Path("X_test.npy"), flat(test), len(test), 3, Side*Side))
	must(t, artifacts.WriteNPY(d.Path("train_rows.npy"), toInt64(train), len(train)))
	must(t, artifacts.WriteNPY(d.Path("test_rows.npy"), toInt64(test), len(test)))
	return d
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Env makes an Env for running stage on the fixture: inputs are the
// fixture's files (dir inputs, ending in "/", are under extra), outputs go
// to a new directory, which Env returns too. overrides replace defaults.
func Env(t *testing.T, stage runner.Stage, inputs map[string]string, overrides map[string]any) (*runner.Env, string) {
	t.Helper()
	spec := stage.Spec()
	params := Params(stage, overrides)
	out := t.TempDir()
	outputs := map[string]string{}
	for _, name := range spec.Outputs {
		outputs[name] = filepath.Join(out, strings.TrimSuffix(name, "/"))
		if strings.HasSuffix(name, "/") {
			must(t, os.MkdirAll(outputs[name], 0o755))
		}
	}
	return runner.NewEnv(t.Name(), params, inputs, outputs, filepath.Join(out, ".state"), nil), out
}

// Inputs maps each of names to the fixture's file of that name.
func (d Data) Inputs(names ...string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		m[n] = d.Path(n)
	}
	return m
}

// Params returns stage's params: its defaults, with set's values instead
// where set names them.
func Params(stage runner.Stage, set map[string]any) pipeline.Params {
	p := pipeline.Params{}
	for _, d := range stage.Spec().Params {
		p[d.Name] = d.Default
	}
	for k, v := range set {
		p[k] = v
	}
	return p
}

// FileSHA returns the hex SHA-256 of a file's bytes.
func FileSHA(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Dataset writes images.npy (n random 28×28 images) and labels.npy in
// dir, drawing from r; labels cycle through the classes first, so every
// class is present, then are random.
func Dataset(t *testing.T, dir string, n, classes int, r *rand.Rand) {
	t.Helper()
	images := make([]uint8, n*28*28)
	for i := range images {
		images[i] = uint8(r.IntN(256))
	}
	labels := make([]uint8, n)
	for i := range labels {
		labels[i] = uint8(i % classes)
		if i >= classes {
			labels[i] = uint8(r.IntN(classes))
		}
	}
	must(t, artifacts.WriteNPY(filepath.Join(dir, "images.npy"), images, n, 28, 28))
	must(t, artifacts.WriteNPY(filepath.Join(dir, "labels.npy"), labels, n))
}
