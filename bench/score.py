#!/usr/bin/env python3
"""make bench: how fast `siamese score` scores images, from a .npy and from PNG files.

Trains a small model (bin/siamese run on Fashion-MNIST, per_class 100, one
epoch: speed does not depend on how well it is trained), then times, end to
end (process start, model load, reading, embedding, writing CSV rows):

(a) `siamese score --model latest --format csv` of ingest/images.npy, the
    70,000 images as uint8 (N, 28, 28), against the same scoring in numpy
    (examples/load_artifacts.py's score_images, float32 matmuls through
    numpy's BLAS);
(b) the same of --pngs PNG files (28x28 grayscale, written here), decoded
    and resized by imageio.

Each figure is the best of --repeat runs. Prints a Markdown table and
writes it to bench/results/score-<time>.md.
Run with Debian's interpreter: /usr/bin/python3 bench/score.py
"""
import argparse
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIAMESE = os.path.join(ROOT, "bin", "siamese")
sys.path.insert(0, os.path.join(ROOT, "examples"))
import load_artifacts  # noqa: E402  (the notebook's numpy scoring)


def run(cmd):
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed (exit {p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p.stdout


def best(repeat, fn):
    """The best wall time of repeat calls of fn, and the CPU time (user +
    system, of this process and its children) of that call."""
    runs = []
    for _ in range(repeat):
        c0, r0 = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        fn()
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = time.process_time() - c0 + (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        runs.append((wall, cpu))
    return min(runs)


def write_png(path, img):
    """A grayscale 8-bit PNG, written with zlib alone."""
    h, w = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pngs", type=int, default=10000, help="PNG files to score")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="siamese-score-bench-")
    try:
        root = os.path.join(work, "out")
        run([SIAMESE, "--artifacts", root, "run", "--no-gate", "--set", "triplets.per_class=100",
             "--set", "train.epochs=1", "--set", "evaluate.queries=1000", "--set", "evaluate.pca_points=100"])
        npy = os.path.join(root, "ingest", "images.npy")
        images = np.load(npy)
        n = len(images)

        purego = os.path.join(work, "siamese-purego")
        subprocess.run(["go", "build", "-o", purego, "./cmd/siamese"], cwd=ROOT, check=True,
                       env=dict(os.environ, CGO_ENABLED="0"))
        builds = [("bin/siamese (make build)", SIAMESE), ("pure Go (CGO_ENABLED=0, our AVX-512/AVX2 Sgemm)", purego)]
        score = ["--artifacts", root, "score", "--model", "latest", "--format", "csv", "-o", os.devnull]
        ours_npy = [(name, best(args.repeat, lambda: run([exe] + score + [npy]))) for name, exe in builds]
        _, layers = load_artifacts.load_model(root)
        anchors, thresholds = load_artifacts.load_anchors(root)
        theirs = best(args.repeat, lambda: load_artifacts.score_images(np.load(npy), layers, anchors, thresholds))

        pngs = os.path.join(work, "pngs")
        for i in range(args.pngs):
            d = os.path.join(pngs, str(i % 10))
            os.makedirs(d, exist_ok=True)
            write_png(os.path.join(d, f"{i:06d}.png"), images[i])
        subprocess.run(["sync"])
        ours_png = [(name, best(args.repeat, lambda: run([exe] + score + [pngs]))) for name, exe in builds]

        def row(what, name, count, t, ref=None):
            wall, cpu = t
            cells = [what, name, f"{count}", f"{wall:.2f} s", f"**{count / wall:,.0f}**", f"{count / cpu:,.0f}"]
            cells.append(f"{ref[0]:.2f} s ({count / ref[0]:,.0f}/s), {ref[1]:.2f} CPU s; ours / numpy {wall / ref[0]:.2f}"
                         if ref else "")
            return "| " + " | ".join(cells) + " |"

        lines = [
            f"`siamese score` on {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, best of "
            f"{args.repeat}; load average {os.getloadavg()[0]:.1f} at the end (other jobs share the cores: "
            "images per CPU second is the steadier figure)",
            "",
            "| input | build | images | wall | images/s | images per CPU s | numpy, same scoring |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [row(".npy, uint8 (N, 28, 28)", name, n, t, theirs) for name, t in ours_npy]
        lines += [row("PNG files, 28×28 grayscale", name, args.pngs, t) for name, t in ours_png]
        lines += ["", "ours: `siamese score --model latest --format csv -o /dev/null PATH`, end to end (start, model load, "
                  "reading, embedding, rows); numpy: examples/load_artifacts.py's score_images on the loaded array, "
                  "no rows written."]
        text = "\n".join(lines) + "\n"
        print(text)
        os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
        with open(os.path.join(ROOT, "bench", "results", time.strftime("score-%Y%m%dT%H%M%S.md")), "w") as f:
            f.write(text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
