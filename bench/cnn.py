#!/usr/bin/env python3
"""make bench's CNN row: one epoch of the convolutional embedding (train.arch: cnn,
conv 32 and 64 channels, dense 256 -> 128, batch-all batches of 10 x 16 images, Adam)
in Go (go test -run TestCNNEpochTiming ./model/) against the same network, loss and
optimiser in PyTorch (bench/torch/cnn_epoch.py), at the same thread count, alternating,
best of --repeat.

Alone: /usr/bin/python3 bench/cnn.py --threads 2 --repeat 3 --images 55000
"""
import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = "/usr/bin/python3"


def cnn_epoch(threads, repeat, images):
    """Best seconds of one CNN epoch on images images: {"go": s, "torch": s}."""
    env = dict(os.environ, GOMAXPROCS=str(threads), SIAMESE_CNN_EPOCH_TIMING=str(images))
    test = os.path.join(ROOT, "bin", "model.test")
    subprocess.run(["go", "test", "-c", "-o", test, "./model/"], cwd=ROOT, check=True)
    out = {}
    for _ in range(repeat):
        p = subprocess.run([test, "-test.run", "^TestCNNEpochTiming$", "-test.v"], cwd=os.path.join(ROOT, "model"),
                           env=env, capture_output=True, text=True)
        m = re.search(r"epoch ([\d.]+)s", p.stdout)
        if not m:
            sys.exit(f"bench: CNN epoch timing failed:\n{p.stdout}\n{p.stderr}")
        out["go"] = min(out.get("go", float("inf")), float(m.group(1)))
        p = subprocess.run([PY, "bench/torch/cnn_epoch.py", "--threads", str(threads), "--epochs", "1",
                            "--images", str(images)], cwd=ROOT, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"bench: torch CNN failed:\n{p.stderr}")
        r = json.loads(p.stdout.strip().splitlines()[-1])
        out["torch"] = min(out.get("torch", float("inf")), r["seconds_per_epoch"])
    return out


def cnn_rows(threads, repeat, images):
    """The Markdown table row of make bench."""
    ep = cnn_epoch(threads, repeat, images)
    print("bench: one CNN epoch (s):", json.dumps(ep), file=sys.stderr, flush=True)
    return [f"| **train.arch cnn: one epoch, conv 32, 64, dense 256, 128, batch-all 10×16, {images} images, "
            f"{threads} threads** | {ep['go']:.2f} s | PyTorch {ep['torch']:.2f} s | {ep['go'] / ep['torch']:.2f} |"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--images", type=int, default=55000)
    args = ap.parse_args()
    print("\n".join(cnn_rows(args.threads, args.repeat, args.images)))
    print(f"(load average {os.getloadavg()[0]:.1f} at the end)")


if __name__ == "__main__":
    main()
