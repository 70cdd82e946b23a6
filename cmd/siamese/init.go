package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	repo "github.com/siamese-pipeline/siamese"
	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/stages/ingest"
)

// The quality gate of a new folder pipeline: what a small dataset, with
// its few test triplets, can pass. binary_accuracy is left out: it counts
// similarities above a fixed 0.5, which a network trained on few
// triplets has not learnt to place; kNN-1 on the images no training
// triplet used measures what scoring does.
const initGate = `
- metric: roc_auc
  min: 0.75
- metric: knn_accuracy_k1
  min: 0.6
- metric: roc_auc
  max_drop: 0.05
`

func (a *app) initCmd() *cobra.Command {
	var folder string
	c := &cobra.Command{
		Use:   "init --folder DIR [NAME]",
		Short: "Write a new pipeline for a folder of images: NAME/pipeline.yaml, with its own artifacts root NAME/out",
		Long: `Write NAME/pipeline.yaml, a pipeline for the folder of images DIR (NAME
defaults to DIR's base name), and print the command that runs it. DIR must
be laid out as DIR/<class>/*.png (or .jpg, .jpeg): one folder per class, at
least 2, images at any depth under their class folder.

The new pipeline keeps its artifacts, runs and promoted models under
NAME/out, apart from any other pipeline's. It is the default pipeline with
these changes: ingest reads DIR (dataset: folder); triplets.per_class and
split.test_size are fitted to the smallest class, so that images no
training triplet used remain for the retrieval and anomaly metrics and the
test triplets are enough to measure accuracy; the quality gate (the file's
gate: block) is one a small dataset can pass. The classes found are
listed in the file's first lines.

  siamese init --folder ~/data/line line-model
  siamese -f line-model/pipeline.yaml run`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError{fmt.Errorf("init takes at most one NAME, got %q", args)}
			}
			if folder == "" {
				return usageError{errors.New("init needs --folder DIR: the folder of class folders of images")}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			name := filepath.Base(filepath.Clean(folder))
			if len(args) == 1 {
				name = args[0]
			}
			file, err := initFolder(folder, name)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s (artifacts under %s)\nnext: siamese -f %s run\n",
				file, filepath.Join(name, pipeline.DefaultRoot), file)
			return nil
		},
	}
	c.Flags().StringVar(&folder, "folder", "", "the folder of images, laid out as DIR/<class>/*.png")
	return c
}

// initFolder writes name/pipeline.yaml for the folder dir and returns its
// path.
func initFolder(dir, name string) (string, error) {
	l, err := ingest.ReadLayout(dir)
	if err != nil {
		return "", usageError{fmt.Errorf("init --folder: %w", err)}
	}
	src, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	out, err := filepath.Abs(name)
	if err != nil {
		return "", err
	}
	if out == src || strings.HasPrefix(out, src+string(filepath.Separator)) {
		return "", usageError{fmt.Errorf("init: NAME %s is inside the image folder %s, where its artifacts would become a class: name another folder, such as siamese init --folder %s %s-pipeline",
			name, dir, dir, filepath.Base(src))}
	}
	file := filepath.Join(name, "pipeline.yaml")
	if _, err := os.Stat(file); err == nil {
		return "", usageError{fmt.Errorf("init: %s exists; remove it, or choose another NAME", file)}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	data, err := folderPipeline(repo.PipelineYAML, src, l)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(name, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return "", err
	}
	return file, nil
}

// fit chooses triplets.per_class and split.test_size for classes whose
// smallest holds smallest images. Each training triplet draws two images
// of its class and one of another, with replacement: k draws leave about
// e^(-k/n) of a class's n images unused. per_class keeps a quarter of the
// smallest class unused (k = 3·per_class·(1-test_size) ≤ n·ln 4), at most
// the default 3000; test_size leaves about 50 test triplets, between 0.05
// and 0.3.
func fit(classes, smallest int) (perClass int, testSize float64) {
	const maxTest, minTest, wantTest = 0.3, 0.05, 50.0
	perClass = int(float64(smallest) * math.Log(4) / (3 * (1 - maxTest)))
	perClass = min(max(perClass, 1), 3000)
	testSize = math.Ceil(100*wantTest/float64(classes*perClass)) / 100
	return perClass, min(max(testSize, minTest), maxTest)
}

// folderPipeline rewrites the default pipeline for the folder src.
func folderPipeline(base []byte, src string, l *ingest.Layout) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("init: the default pipeline: %w", err)
	}
	top := doc.Content[0]
	smallest := l.Images[0]
	for _, n := range l.Images {
		smallest = min(smallest, n)
	}
	perClass, testSize := fit(len(l.Classes), smallest)
	sets := []struct {
		path    []string
		value   string
		tag     string
		comment string
	}{
		{[]string{"artifacts"}, pipeline.DefaultRoot, "!!str", "this pipeline's own artifacts root, beside this file"},
		{[]string{"stages", "ingest", "params", "dataset"}, ingest.DatasetFolder, "!!str", "a folder of class folders of images"},
		{[]string{"stages", "ingest", "params", "source"}, src, "!!str", ""},
		{[]string{"stages", "triplets", "params", "per_class"}, strconv.Itoa(perClass), "!!int",
			fmt.Sprintf("fitted: leaves about a quarter of the smallest class (%d images) to no training triplet", smallest)},
		{[]string{"stages", "split", "params", "test_size"}, strconv.FormatFloat(testSize, 'f', -1, 64), "!!float",
			fmt.Sprintf("fitted: about %d test triplets", int(math.Round(testSize*float64(perClass*len(l.Classes)))))},
	}
	for _, s := range sets {
		n := lookup(top, s.path...)
		if n == nil {
			return nil, fmt.Errorf("init: the default pipeline has no %s", strings.Join(s.path, "."))
		}
		n.Kind, n.Tag, n.Value, n.Style, n.LineComment = yaml.ScalarNode, s.tag, s.value, 0, ""
		if s.comment != "" {
			n.LineComment = "# " + s.comment
		}
	}
	var gate yaml.Node
	if err := yaml.Unmarshal([]byte(initGate), &gate); err != nil {
		return nil, err
	}
	g := lookup(top, "gate")
	if g == nil {
		return nil, errors.New("init: the default pipeline has no gate")
	}
	*g = *gate.Content[0]
	var b bytes.Buffer
	fmt.Fprintf(&b, "# A pipeline for the folder of images %s, written by siamese init.\n", src)
	fmt.Fprintf(&b, "# Run it with: siamese -f THIS-FILE run. Its artifacts, runs and models are under out/ beside it.\n")
	fmt.Fprintf(&b, "# The quality gate (gate: below) suits a small dataset: roc_auc and kNN-1 rather than\n")
	fmt.Fprintf(&b, "# binary_accuracy, whose fixed 0.5 threshold few triplets do not teach; tighten it as the data grows.\n")
	fmt.Fprintf(&b, "# %d classes found (images each):\n", len(l.Classes))
	line := "#  "
	for i, c := range l.Classes {
		item := fmt.Sprintf(" %s (%d)", c, l.Images[i])
		if len(line)+len(item) > 100 {
			b.WriteString(line + "\n")
			line = "#  "
		}
		line += item
	}
	b.WriteString(line + "\n")
	doc.HeadComment, top.HeadComment = "", ""
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(top); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// lookup finds the value at a path of mapping keys.
func lookup(n *yaml.Node, path ...string) *yaml.Node {
	for _, key := range path {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}
