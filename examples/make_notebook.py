#!/usr/bin/env python3
"""Generate load_artifacts.ipynb from load_artifacts.py.

The notebook's code cells hold the script's imports, constants and functions
verbatim (taken from the script with ast), with markdown cells explaining
each step and small cells that call the functions. Run it after editing the
script:

    python3 examples/make_notebook.py           # rewrite the notebook
    python3 examples/make_notebook.py --check   # exit 1 if it is stale
"""

import argparse
import ast
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "load_artifacts.py")
NOTEBOOK = os.path.join(HERE, "load_artifacts.ipynb")

# The notebook: markdown text, "@header" (the script's imports and
# constants), "@name" (the script's function name, verbatim) or plain code.
CELLS = [
    ("markdown", """# Loading the Siamese pipeline's artifacts

The Go pipeline (`siamese run`) leaves every intermediate result under the artifacts root
(`out/` by default), one directory per stage, as `.npy` files (read with `numpy.load`)
and Arrow IPC files (read with `pyarrow`):

| stage | files |
|---|---|
| `ingest` | `images.npy` uint8 (70000, 28, 28), `labels.npy` uint8 (70000,), `classes.txt` (class names) |
| `triplets` | `triplets.arrow` (rows of `images.npy` per triplet) |
| `split` | `train_rows.npy`, `test_rows.npy` int64 (rows of `triplets.arrow`) |
| `notebook` | the notebook's arrays: `triplets/triplets_fasion_MNIST_array.npy` uint8 (N, 3, 28, 28), `flatten/triplets_fasion_MNIST_flatten.npy` float64 (N, 3, 784), `split/X_train.npy`, `split/X_test.npy` float64 (n, 3, 784) |
| `train` | `model/model.json` and its float32 weight files, `history.arrow`, `loss.png` |
| `evaluate` | `embeddings.arrow`, `scores.arrow`, `metrics.json`, plots, `anchors.npy` float32 (classes, 128), `thresholds.json` |

This notebook loads them, rebuilds the trained network in a few lines of numpy, embeds the
test triplets, recomputes the evaluation metrics to check them against `metrics.json`, and scores
images for anomalies with the class anchors and thresholds.
It is generated from `load_artifacts.py` (same functions; run `make_notebook.py` after editing the
script), which does the same from the command line: `python3 load_artifacts.py --artifacts out --check`."""),
    ("code", "@header"),
    ("markdown", "Where the pipeline wrote its artifacts (a path relative to the notebook, or absolute):"),
    ("code", 'ARTIFACTS = "../out"'),
    ("markdown", """## 1. Every `.npy` file

`np.load(..., mmap_mode="r")` maps the file instead of reading it, so even the 70000 images load
instantly; slicing reads just what is needed."""),
    ("code", "@list_npy"),
    ("code", "arrays = list_npy(ARTIFACTS)"),
    ("markdown", "`ingest/classes.txt` names the classes, one a line, in label order:"),
    ("code", "@load_classes"),
    ("code", "classes = load_classes(ARTIFACTS)"),
    ("markdown", """## 2. The Arrow tables

The Arrow IPC files (`.arrow`) open with `pyarrow.ipc.open_file`; `table.to_pandas()` turns one into
a DataFrame. Without pyarrow (`pip install pyarrow`) this step is skipped."""),
    ("code", "@read_arrow_files"),
    ("code", "tables = read_arrow_files(ARTIFACTS)"),
    ("markdown", """## 3. The model

`train/model/model.json` lists the layers of the shared network in order: the weight file
(a float32 `.npy` of shape in × out), the bias file (out,) and the activation of each. The forward
pass is just `x @ W + b` and the activation, layer after layer. A convolutional network
(`train.arch: cnn`) lists its conv blocks first under `"conv"`: each a 3×3 convolution with zero
padding (weights of shape 3 × 3 × in × out, channels last), + bias, relu and 2×2 max-pooling, on the
image of `"image"` (height, width); the dense layers then take the last block's output flattened
in (height, width, channel) order."""),
    ("code", "@load_model"),
    ("code", "@activate"),
    ("code", "@conv_block"),
    ("code", "@forward"),
    ("code", "spec, layers = load_model(ARTIFACTS)\nspec"),
    ("markdown", """## 4. Embed the test triplets

`split/X_test.npy` holds the held-out triplets, (n, 3, 784): anchor, positive and negative, each a
flattened image scaled to [0, 1]. The network embeds all three."""),
    ("code", "@embed_test"),
    ("code", "emb = embed_test(ARTIFACTS, layers)"),
    ("markdown", """## 5. Angular similarity

Each pair of embeddings is scored with the angular similarity 1 − arccos(cos θ)/π, which is 1 for the
same direction, 0.5 for orthogonal vectors and 0 for opposite ones. The (anchor, positive) pairs
should score high, the (anchor, negative) pairs low. `evaluate/scores.arrow` holds the pipeline's own
scores in the same order: every positive pair, then every negative pair."""),
    ("code", "@angular_similarity"),
    ("code", "@pair_scores"),
    ("code", "@compare_scores"),
    ("code", "scores, labels = pair_scores(emb)\ncompare_scores(tables, scores)"),
    ("markdown", """## 6. The metrics

Binary accuracy calls a pair "same class" when its score is above 0.5 (as Keras' `binary_accuracy`);
ROC AUC and average precision (the area under the precision–recall curve) come from scikit-learn."""),
    ("code", "@recompute_metrics"),
    ("code", "mine = recompute_metrics(scores, labels)\nmine"),
    ("markdown", """## 7. Check against `metrics.json`

The pipeline's `evaluate/metrics.json` should agree: AUC and average precision to 1e-4 (the Go
and numpy forward passes round float32 differently), accuracy exactly unless a score lies within
1e-6 of the threshold."""),
    ("code", "@compare_metrics"),
    ("code", 'problems = compare_metrics(mine, os.path.join(ARTIFACTS, "evaluate", "metrics.json"))\nproblems or "all metrics match"'),
    ("markdown", """## 8. Anomaly scoring: class anchors and thresholds

An image is scored by the distance of its embedding to its class's anchor. `evaluate/anchors.npy`
(float32, classes × embedding) holds one anchor per class, the mean embedding of the class's training
images; `evaluate/thresholds.json` holds each class's cosine-distance threshold, chosen on held-out
images (those no training triplet used) so that about `target_fpr` of a class's normal images lie
beyond it, with how it did there (`per_class`: `fpr`, and `tpr`, the other classes' images it flags).
`siamese score` scores images the same way; the promoted model's copies lie in `models/current/`."""),
    ("code", "@load_anchors"),
    ("code", "anchors, thresholds = load_anchors(ARTIFACTS)"),
    ("code", "@score_images"),
    ("code", 'images = arrays["ingest/images.npy"][:1000]\nnearest, dist, anomaly, passed = score_images(images, layers, anchors, thresholds)\n'
             'print(f"{passed.mean():.1%} of {len(images)} images lie within their nearest class\'s threshold")\n'
             'list(zip([thresholds["classes"][c] for c in nearest[:5]], dist[:5].round(4), passed[:5]))'),
    ("code", "@check_anchors"),
    ("code", "problems += check_anchors(anchors, thresholds, classes, layers)\nproblems or \"anchors and thresholds fit\""),
]


def script_parts(source):
    """The script's header (imports and constants) and its functions by name."""
    tree = ast.parse(source)
    header_nodes = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom, ast.Assign))]
    lines = source.splitlines()
    first = min(n.lineno for n in header_nodes)
    last = max(n.end_lineno for n in header_nodes)
    header = "\n".join(lines[first - 1:last]).strip()
    funcs = {n.name: ast.get_source_segment(source, n) for n in tree.body if isinstance(n, ast.FunctionDef)}
    return header, funcs


def build(source):
    header, funcs = script_parts(source)
    used = set()
    cells = []
    for i, (kind, text) in enumerate(CELLS):
        if kind == "code" and text.startswith("@"):
            name = text[1:]
            if name == "header":
                text = header
            elif name in funcs:
                text = funcs[name]
                used.add(name)
            else:
                raise SystemExit(f"make_notebook: load_artifacts.py has no function {name}")
        lines = text.splitlines(keepends=True)
        cell = {"cell_type": kind, "id": f"cell-{i:02d}", "metadata": {}, "source": lines}
        if kind == "code":
            cell["execution_count"] = None
            cell["outputs"] = []
        cells.append(cell)
    missing = sorted(set(funcs) - used - {"main"})
    if missing:
        raise SystemExit(f"make_notebook: functions not in the notebook: {', '.join(missing)}; add them to CELLS")
    nb = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "mimetype": "text/x-python", "file_extension": ".py"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main():
    ap = argparse.ArgumentParser(description="Generate load_artifacts.ipynb from load_artifacts.py.")
    ap.add_argument("--check", action="store_true", help="exit 1 if the notebook is not what this would write")
    args = ap.parse_args()
    with open(SCRIPT, encoding="utf-8") as f:
        text = build(f.read())
    if args.check:
        try:
            with open(NOTEBOOK, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            print(f"make_notebook: {NOTEBOOK} is stale; run python3 examples/make_notebook.py", file=sys.stderr)
            return 1
        return 0
    with open(NOTEBOOK, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
