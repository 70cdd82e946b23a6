package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/siamese-pipeline/siamese/history"
	"github.com/siamese-pipeline/siamese/internal/atomicfile"
	"github.com/siamese-pipeline/siamese/models"
	"github.com/siamese-pipeline/siamese/scoring"
)

func (a *app) scoreCmd() *cobra.Command {
	var ref, format, output string
	var allowMixed bool
	c := &cobra.Command{
		Use:   "score [--model current|latest|RUN-ID] [--format table|csv|json] [-o FILE] PATH...",
		Short: "Score images with a trained model: nearest class, distance to its anchor, anomaly score",
		Long: `Score images for anomalies. Each PATH is an image file (PNG or JPEG), a
directory (every image file under it) or a .npy of uint8 images (N, H, W).
Image files are converted to grayscale and resized as the model's training
images were. Each image is embedded by the network and compared with every
class's anchor (the mean embedding of the class's training images):

  path           the image's path, or FILE.npy[i]
  class          the class whose anchor is nearest
  distance       the cosine distance 1 - cos to that anchor
  anomaly_score  distance / the class's threshold: above 1 is beyond it
  pass           whether distance <= the class's threshold (chosen in
                 evaluate at the target false-positive rate evaluate.fpr)

--model current (the default) is the promoted model (siamese models lists
them), latest the one train/ and evaluate/ hold now, or a promoted model's
run id (or a unique prefix of it). A model's weights, anchors and
thresholds always come from one run: --model latest refuses when a stage
was rerun alone (run --only train) and the stages after it were not, so
that the anchors and thresholds were made with other weights;
--allow-mixed scores anyway, with a warning. score says on stderr which
model it used: its run, dataset, classes and directory.

  siamese score --format csv -o scores.csv incoming/
  siamese score --model latest out/ingest/images.npy`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("score needs at least one image file, directory or .npy to score")}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			h, err := a.logHandler(a.stderr)
			if err != nil {
				return err
			}
			if !isOneOf(format, scoring.Formats) {
				return usageError{fmt.Errorf("--format %q: want table, csv or json", format)}
			}
			m, used, err := a.scoringModel(ref, allowMixed)
			if err != nil {
				return err
			}
			if a.logFormat == "json" {
				slog.New(h).Info("scoring with model", "run", used.run, "model", ref, "dataset", used.dataset,
					"classes", used.classes, "path", used.path)
			} else {
				fmt.Fprintln(a.stderr, used.describe())
			}
			out, commit := a.stdout, func() error { return nil }
			if output != "" {
				f, err := atomicfile.Create(output)
				switch {
				case errors.Is(err, atomicfile.ErrNotRegular):
					// A device or a pipe (-o /dev/null) is written in place.
					dev, err := os.OpenFile(output, os.O_WRONLY, 0)
					if err != nil {
						return err
					}
					defer dev.Close()
					out, commit = dev, dev.Close
				case err != nil:
					return err
				default:
					defer f.Abort()
					out, commit = f, f.Commit
				}
			}
			n, took, err := score(c, m, args, format, out)
			if err != nil {
				return err
			}
			if err := commit(); err != nil {
				return err
			}
			slog.New(h).Debug("scored", "images", n, "model", used.run, "seconds", took.Seconds(),
				"images_per_second", float64(n)/max(took.Seconds(), 1e-9))
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&ref, "model", models.Current, "current (the promoted model), latest (what train/ and evaluate/ hold now) or a promoted run id")
	f.BoolVar(&allowMixed, "allow-mixed", false, "with --model latest: score even when train/ holds newer weights than evaluate's anchors and thresholds were made with (a warning instead of a refusal)")
	f.StringVar(&format, "format", "table", "output format: table, csv or json")
	f.StringVarP(&output, "output", "o", "", "write to FILE instead of stdout")
	return c
}

// score scores the images paths name with m and writes one row each to out.
func score(c *cobra.Command, m *scoring.Model, paths []string, format string, out io.Writer) (int, time.Duration, error) {
	start := time.Now()
	w, err := scoring.NewWriter(out, format, m.Classes)
	if err != nil {
		return 0, 0, usageError{err}
	}
	n := 0
	var res []scoring.Result
	err = scoring.Read(c.Context(), paths, m.Preprocess, func(names []string, pixels []uint8) error {
		res = m.Score(pixels, len(names), res[:0])
		n += len(names)
		return w.Write(names, res)
	})
	if err != nil {
		return n, 0, err
	}
	return n, time.Since(start), w.Close()
}

// modelUsed says which model score used: the run that made it, its
// dataset's source and classes, and where its files lie.
type modelUsed struct {
	ref, run, dataset, path string
	classes                 []string
}

// describe is the line score writes to stderr about the model it used.
func (u modelUsed) describe() string {
	run, dataset := u.run, u.dataset
	if run == "" {
		run = "(no recorded run)"
	}
	if dataset == "" {
		dataset = "not recorded"
	}
	return fmt.Sprintf("scoring with model %s (--model %s), dataset %s, classes %s, from %s",
		run, u.ref, dataset, classList(u.classes), u.path)
}

// classList writes class names for a person: their number and the first
// few of them.
func classList(classes []string) string {
	const few = 6
	if len(classes) <= few {
		return fmt.Sprintf("%d (%s)", len(classes), strings.Join(classes, ", "))
	}
	return fmt.Sprintf("%d (%s, …)", len(classes), strings.Join(classes[:few], ", "))
}

// scoringModel opens the model ref names, and says which it is. With
// ref latest, the model's parts must come from one run unless allowMixed,
// which turns the refusal into a warning.
func (a *app) scoringModel(ref string, allowMixed bool) (*scoring.Model, modelUsed, error) {
	used := modelUsed{ref: ref}
	if ref == "latest" {
		r, err := a.load(nil)
		if err != nil {
			return nil, used, err
		}
		sp, err := serving(r.Pipeline)
		if err != nil {
			return nil, used, err
		}
		newest, err := checkLatest(r, sp)
		var mixed *mixedError
		switch {
		case errors.As(err, &mixed) && allowMixed:
			r.Log.Warn("scoring with a mixed model (--allow-mixed)", "err", err.Error())
		case err != nil:
			return nil, used, err
		}
		// The preprocessing the model's images had: the params of the
		// ingest run that made classes.txt (its record), else pipeline.yaml's.
		if rec, err := r.Recorded(sp.ingest); err == nil && rec != nil {
			sp.pre = preprocess(rec.Params, sp.pre)
		}
		m, err := scoring.Open(sp.files, sp.pre)
		if err != nil {
			return nil, used, fmt.Errorf("--model latest: %w (has the pipeline run through evaluate?)", err)
		}
		used.path, used.classes = r.Root(), m.Classes
		if runs, err := history.List(r.Root()); err == nil && newest != nil {
			used.run = runOf(runs, newest)
		}
		if ds, err := datasetOf(r); err == nil && ds != nil {
			used.dataset = ds.Source
		}
		return m, used, nil
	}
	root, err := a.artifactsRoot()
	if err != nil {
		return nil, used, err
	}
	pm, err := models.Find(root, ref)
	if errors.Is(err, models.ErrNoCurrent) {
		return nil, used, fmt.Errorf("--model current: %w: a run promotes its model when it passes the quality gate; "+
			"use --model latest to score with the model train/ and evaluate/ hold now", err)
	}
	if err != nil {
		return nil, used, err
	}
	m, err := scoring.Open(pm.Paths(), pm.Preprocess)
	if err != nil {
		return nil, used, fmt.Errorf("model %s: %w", pm.Run, err)
	}
	used.run, used.dataset, used.path, used.classes = pm.Run, pm.Dataset, pm.Dir, m.Classes
	return m, used, nil
}

func isOneOf(s string, choices []string) bool {
	for _, c := range choices {
		if s == c {
			return true
		}
	}
	return false
}
