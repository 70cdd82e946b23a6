#!/usr/bin/env python3
"""Reference for the pipeline's data stages (ingest -> triplets -> flatten ->
split), vectorised numpy: the speed the Go stages are measured against.

Reads the four Fashion-MNIST IDX .gz files, concatenates train and test,
draws per_class triplets per class (np.random.choice with size=per_class,
vectorised, so not the notebook's exact stream), gathers and saves the uint8
array, saves the /255 float64 flatten, and splits it with a permutation as
train_test_split does (test = perm[:ceil(0.05 N)]), saving X_train/X_test.
Prints the seconds of each step and the total as JSON.

Run with Debian's interpreter (numpy): /usr/bin/python3 data_stages.py
--per-class 3000 --out DIR
"""
import argparse
import gzip
import json
import math
import os
import time

import numpy as np


def read_idx(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-class", type=int, default=3000)
    ap.add_argument("--out", required=True, help="directory for the .npy files")
    ap.add_argument("--source", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--test-size", type=float, default=0.05)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    out = lambda name: os.path.join(args.out, name)
    steps = {}
    t_all = time.perf_counter()

    t = time.perf_counter()
    parts = []
    for prefix in ("train", "t10k"):
        y = read_idx(os.path.join(args.source, prefix + "-labels-idx1-ubyte.gz"), 8)
        x = read_idx(os.path.join(args.source, prefix + "-images-idx3-ubyte.gz"), 16).reshape(len(y), 28, 28)
        parts.append((x, y))
    images = np.concatenate([parts[0][0], parts[1][0]])
    labels = np.concatenate([parts[0][1], parts[1][1]])
    np.save(out("images.npy"), images)
    np.save(out("labels.npy"), labels)
    steps["ingest"] = time.perf_counter() - t

    t = time.perf_counter()
    np.random.seed(args.seed)
    rows = []
    for c in range(10):
        anchors = np.where(labels == c)[0]
        negatives = np.where(labels != c)[0]
        a = np.random.choice(anchors, size=args.per_class)
        p = np.random.choice(anchors, size=args.per_class)
        n = np.random.choice(negatives, size=args.per_class)
        rows.append(np.stack([a, p, n], axis=1))
    rows = np.concatenate(rows)
    triplets = images[rows]  # (N, 3, 28, 28)
    np.save(out("triplets_fasion_MNIST_array.npy"), triplets)
    steps["triplets"] = time.perf_counter() - t

    t = time.perf_counter()
    n_triplets = len(triplets)
    flat = (triplets / 255).reshape(n_triplets, 3, 784)
    np.save(out("triplets_fasion_MNIST_flatten.npy"), flat)
    steps["flatten"] = time.perf_counter() - t

    t = time.perf_counter()
    n_test = math.ceil(args.test_size * n_triplets)
    perm = np.random.RandomState(args.seed).permutation(n_triplets)
    test, train = perm[:n_test], perm[n_test:]
    np.save(out("X_train.npy"), flat[train])
    np.save(out("X_test.npy"), flat[test])
    np.save(out("train_rows.npy"), train.astype(np.int64))
    np.save(out("test_rows.npy"), test.astype(np.int64))
    steps["split"] = time.perf_counter() - t

    steps["total"] = time.perf_counter() - t_all
    print(json.dumps({"per_class": args.per_class, "seconds": {k: round(v, 3) for k, v in steps.items()}}))


if __name__ == "__main__":
    main()
