#!/usr/bin/env python3
"""Load the Siamese pipeline's artifacts with numpy and check them.

Every stage of the pipeline leaves its results under the artifacts root
(default ``out/``) as .npy and Arrow IPC files. This script

1. loads every .npy file and prints its shape and dtype;
2. rebuilds the trained network's forward pass from train/model/model.json
   and its float32 weight files, in plain numpy;
3. embeds the test triplets (split/X_test.npy);
4. scores each (anchor, positive) and (anchor, negative) pair with the
   angular similarity 1 - arccos(cos)/pi;
5. recomputes binary accuracy (score > 0.5), ROC AUC and average precision
   with scikit-learn, and with --check compares them to
   evaluate/metrics.json, exiting 1 on a mismatch;
6. loads the class anchors (evaluate/anchors.npy) and distance thresholds
   (evaluate/thresholds.json) and scores images for anomalies with them, as
   `siamese score` does.

Arrow files are read with pyarrow when it is installed and skipped (with a
note) otherwise. load_artifacts.ipynb holds the same code as notebook cells
(regenerate it with make_notebook.py after editing this file).

Usage: python3 load_artifacts.py --artifacts out [--check]
"""

import argparse
import json
import os
import sys

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

# The metrics --check compares, with their tolerances. Accuracy must match
# exactly, except for pairs whose score is within ACCURACY_EPS of the 0.5
# threshold, which float rounding may put on either side.
AUC_TOLERANCE = 1e-4
ACCURACY_EPS = 1e-6


def list_npy(root):
    """Load every .npy file under root (memory-mapped) and print its shape."""
    arrays = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.endswith(".npy"):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            a = np.load(path, mmap_mode="r")
            arrays[rel] = a
            print(f"  {rel:50s} {str(a.dtype):8s} {a.shape}")
    return arrays


def load_classes(root):
    """The class names ingest wrote, in label order (empty if it wrote none)."""
    path = os.path.join(root, "ingest", "classes.txt")
    if not os.path.isfile(path):
        return []
    with open(path) as f:
        names = f.read().splitlines()
    print("  " + ", ".join(f"{i}: {n}" for i, n in enumerate(names)))
    return names


def load_model(root):
    """Read train/model/model.json and the weight and bias files it names: a convolutional
    network's conv blocks ("conv": weights (3, 3, in, out), on images of spec["image"]), then
    the dense layers."""
    model_dir = os.path.join(root, "train", "model")
    with open(os.path.join(model_dir, "model.json")) as f:
        spec = json.load(f)
    layers = []
    width = spec.get("input")
    for i, block in enumerate(spec.get("conv", [])):
        W = np.load(os.path.join(model_dir, block["weights"]))
        b = np.load(os.path.join(model_dir, block["bias"]))
        h, w, cin, cout = block["height"], block["width"], block["in"], block["out"]
        if W.shape != (3, 3, cin, cout) or b.shape != (cout,) or width != h * w * cin:
            raise ValueError(f"conv block {i}: weights {W.shape}, bias {b.shape}, input {width}; want "
                             f"(3, 3, {cin}, {cout}), ({cout},), {h * w * cin}")
        layers.append((W, b, {"conv": (h, w)}))
        width = (h // 2) * (w // 2) * cout
        print(f"  conv block {i}: {h}x{w}x{cin} → 3x3 conv, relu, 2x2 max-pool → {h // 2}x{w // 2}x{cout}")
    for i, layer in enumerate(spec["layers"]):
        w_file = layer.get("weights") or layer.get("W") or layer.get("kernel")
        b_file = layer.get("bias") or layer.get("b")
        W = np.load(os.path.join(model_dir, w_file)) if w_file else None
        b = np.load(os.path.join(model_dir, b_file)) if b_file else None
        if W is not None:
            if W.ndim != 2 or (width is not None and W.shape[0] != width):
                raise ValueError(f"layer {i}: weights {w_file} have shape {W.shape}, want ({width}, out)")
            width = W.shape[1]
        if b is not None and b.shape != (width,):
            raise ValueError(f"layer {i}: bias {b_file} has shape {b.shape}, want ({width},)")
        act = layer.get("activation") or "linear"
        layers.append((W, b, act))
        shape = "" if W is None else f"{W.shape[0]}→{W.shape[1]}"
        print(f"  layer {i}: {shape:10s} {act}")
    return spec, layers


def activate(x, name):
    """Apply a layer's activation function."""
    if name in ("linear", "identity", "none"):
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "tanh":
        return np.tanh(x)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name in ("l2", "l2_normalize"):
        n = np.linalg.norm(x, axis=-1, keepdims=True)
        return x / np.where(n == 0, 1, n)
    raise ValueError(f"unknown activation {name!r}")


def conv_block(x, W, b, h, w):
    """A conv block on rows of x, each an h×w×in image (channels last) flattened: 3×3
    convolution with zero padding 1, + b, relu, 2×2 max-pooling (an odd last row or column
    dropped); returns the pooled (h/2)×(w/2)×out images flattened the same way."""
    n, cout = len(x), W.shape[3]
    img = np.pad(x.reshape(n, h, w, W.shape[2]), ((0, 0), (1, 1), (1, 1), (0, 0)))
    y = sum(img[:, ky:ky + h, kx:kx + w, :] @ W[ky, kx] for ky in range(3) for kx in range(3))
    y = np.maximum(y + b, 0)[:, :h // 2 * 2, :w // 2 * 2, :]
    return y.reshape(n, h // 2, 2, w // 2, 2, cout).max(axis=(2, 4)).reshape(n, -1)


def forward(x, layers):
    """The network's forward pass: conv blocks, then x @ W + b and the activation, per layer."""
    x = np.asarray(x, dtype=np.float32)
    for W, b, act in layers:
        if isinstance(act, dict):
            x = conv_block(x, W, b, *act["conv"])
            continue
        if W is not None:
            x = x @ W
        if b is not None:
            x = x + b
        x = activate(x, act)
    return x


def embed_test(root, layers):
    """Embed the anchor, positive and negative of every test triplet."""
    X_test = np.load(os.path.join(root, "split", "X_test.npy")).astype(np.float32)
    n, k, d = X_test.shape
    emb = forward(X_test.reshape(n * k, d), layers).reshape(n, k, -1)
    print(f"  X_test {X_test.shape} → embeddings {emb.shape} {emb.dtype}")
    return emb


def angular_similarity(a, b):
    """1 - arccos(cos(a, b))/pi per row, in [0, 1]; rows of zero norm have cos 0."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    dot = np.sum(a * b, axis=-1)
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    cos = np.divide(dot, norms, out=np.zeros_like(dot), where=norms != 0)
    return 1 - np.arccos(np.clip(cos, -1, 1)) / np.pi


def pair_scores(emb):
    """Scores and labels of the pairs: every (a, p) labelled 1, then every (a, n) labelled 0."""
    pos = angular_similarity(emb[:, 0], emb[:, 1])
    neg = angular_similarity(emb[:, 0], emb[:, 2])
    scores = np.concatenate([pos, neg])
    labels = np.concatenate([np.ones(len(pos), dtype=np.int64), np.zeros(len(neg), dtype=np.int64)])
    return scores, labels


def recompute_metrics(scores, labels):
    """Binary accuracy at 0.5, ROC AUC and average precision of the pair scores."""
    return {
        "binary_accuracy": float(np.mean((scores > 0.5) == (labels == 1))),
        "roc_auc": float(roc_auc_score(labels, scores)),
        "pr_auc": float(average_precision_score(labels, scores)),
        "pairs": int(len(scores)),
        "near_threshold": int(np.sum(np.abs(scores - 0.5) < ACCURACY_EPS)),
    }


def compare_metrics(mine, path):
    """Compare recomputed metrics with metrics.json; return the mismatches."""
    with open(path) as f:
        reported = json.load(f)
    problems = []
    slack = mine["near_threshold"] / mine["pairs"] + 1e-12
    for name, tol in (("binary_accuracy", slack), ("roc_auc", AUC_TOLERANCE), ("pr_auc", AUC_TOLERANCE)):
        want = reported.get(name)
        if not isinstance(want, (int, float)) or isinstance(want, bool):
            problems.append(f"{name}: metrics.json has {want!r}, not a number")
            continue
        diff = abs(mine[name] - want)
        ok = diff <= tol
        print(f"  {name:16s} recomputed {mine[name]:.6f}  metrics.json {want:.6f}  |Δ| {diff:.2e}  {'ok' if ok else 'MISMATCH'}")
        if not ok:
            problems.append(f"{name}: recomputed {mine[name]!r}, metrics.json says {want!r} (tolerance {tol:.1e})")
    return problems


def load_anchors(root):
    """evaluate/anchors.npy: float32 (classes, embedding), one mean embedding per class; and
    evaluate/thresholds.json: each class's cosine-distance threshold and how it was chosen."""
    anchors = np.load(os.path.join(root, "evaluate", "anchors.npy"))
    with open(os.path.join(root, "evaluate", "thresholds.json")) as f:
        thresholds = json.load(f)
    print(f"  anchors {anchors.shape} {anchors.dtype}; target false-positive rate {thresholds['target_fpr']}")
    for name, t in zip(thresholds["classes"], thresholds["thresholds"]):
        print(f"  {name:20s} threshold {t:.4f}")
    return anchors, thresholds


def score_images(images, layers, anchors, thresholds):
    """Score uint8 images (n, h, w) as `siamese score` does: the class whose anchor is nearest in
    cosine distance, that distance, the anomaly score distance / threshold, and whether the
    distance is within the class's threshold."""
    x = (images.reshape(len(images), -1) / 255).astype(np.float32)
    emb = forward(x, layers).astype(np.float64)
    a = anchors.astype(np.float64)
    norms = np.linalg.norm(emb, axis=1, keepdims=True) * np.linalg.norm(a, axis=1)
    cos = np.divide(emb @ a.T, norms, out=np.zeros((len(emb), len(a))), where=norms != 0)
    dist = 1 - cos
    nearest = dist.argmin(axis=1)
    d = dist[np.arange(len(dist)), nearest]
    th = np.asarray(thresholds["thresholds"])[nearest]
    return nearest, d, d / th, d <= th


def check_anchors(anchors, thresholds, classes, layers):
    """Check that the anchors and thresholds fit the classes and the network; return the problems."""
    problems = []
    width = layers[-1][0].shape[-1] if layers[-1][0] is not None else None
    if anchors.dtype != np.float32 or anchors.ndim != 2 or anchors.shape != (len(classes), width):
        problems.append(f"anchors.npy: {anchors.dtype} {anchors.shape}, want float32 ({len(classes)}, {width})")
    if thresholds["classes"] != classes or len(thresholds["thresholds"]) != len(classes):
        problems.append(f"thresholds.json names classes {thresholds['classes']}, classes.txt {classes}")
    if not all(t >= 0 for t in thresholds["thresholds"]):
        problems.append(f"thresholds.json: negative thresholds {thresholds['thresholds']}")
    print(f"  anchors and thresholds {'fit' if not problems else 'do NOT fit'} the {len(classes)} classes")
    return problems


def read_arrow_files(root):
    """Print the schema and row count of every Arrow file, if pyarrow is installed."""
    try:
        import pyarrow as pa
    except ImportError:
        print("  pyarrow is not installed: skipping the Arrow files (pip install pyarrow to read them)")
        return {}
    tables = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(".arrow"):
                path = os.path.join(dirpath, name)
                with pa.memory_map(path) as source:
                    table = pa.ipc.open_file(source).read_all()
                rel = os.path.relpath(path, root)
                tables[rel] = table
                cols = ", ".join(f"{f.name}: {f.type}" for f in table.schema)
                print(f"  {rel}: {table.num_rows} rows; {cols}")
    return tables


def compare_scores(tables, scores):
    """Compare our pair scores with evaluate/scores.arrow (informational)."""
    key = os.path.join("evaluate", "scores.arrow")
    if key not in tables or "similarity" not in tables[key].column_names:
        return
    theirs = tables[key].column("similarity").to_numpy()
    if len(theirs) != len(scores):
        print(f"  scores.arrow has {len(theirs)} rows, we scored {len(scores)} pairs")
        return
    print(f"  scores.arrow similarity vs recomputed: max |Δ| {np.max(np.abs(theirs - scores)):.2e}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--artifacts", default="out", help="the artifacts root (default: out)")
    ap.add_argument("--check", action="store_true", help="compare with evaluate/metrics.json; exit 1 on mismatch")
    ap.add_argument("--write-expected", metavar="FILE", help="write the recomputed metrics to FILE as JSON")
    args = ap.parse_args(argv)
    root = args.artifacts
    if not os.path.isdir(root):
        print(f"load_artifacts: {root} is not a directory", file=sys.stderr)
        return 2

    print(f"== .npy files under {root}")
    list_npy(root)
    print("== classes")
    classes = load_classes(root)
    print("== Arrow files")
    tables = read_arrow_files(root)
    print("== model")
    _, layers = load_model(root)
    print("== test embeddings")
    emb = embed_test(root, layers)
    scores, labels = pair_scores(emb)
    compare_scores(tables, scores)
    mine = recompute_metrics(scores, labels)
    print("== recomputed metrics")
    print(json.dumps(mine, indent=2, sort_keys=True))
    if args.write_expected:
        with open(args.write_expected, "w") as f:
            json.dump(mine, f, indent=2, sort_keys=True)
    print("== anchors and thresholds")
    anchors, thresholds = load_anchors(root)
    images = np.load(os.path.join(root, "ingest", "images.npy"), mmap_mode="r")[:1000]
    nearest, _, _, passed = score_images(images, layers, anchors, thresholds)
    print(f"  scored {len(images)} images of ingest/images.npy: {passed.mean():.1%} within their nearest class's threshold")
    anchor_problems = check_anchors(anchors, thresholds, classes, layers)
    if args.check:
        path = os.path.join(root, "evaluate", "metrics.json")
        print(f"== check against {path}")
        if not os.path.isfile(path):
            print(f"load_artifacts: {path} is missing", file=sys.stderr)
            return 1
        problems = compare_metrics(mine, path) + anchor_problems
        if problems:
            for p in problems:
                print(f"load_artifacts: {p}", file=sys.stderr)
            return 1
        print("  all metrics match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
