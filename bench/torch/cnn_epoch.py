#!/usr/bin/env python3
"""Reference timing: the convolutional embedding (train.arch: cnn) trained
with PyTorch on mined batches.

Same network as ours: blocks of 3x3 convolution (padding 1), ReLU, 2x2
max-pooling, of --conv channels each; then dense layers --hidden (ReLU
between, the last linear); glorot-uniform weights, zero biases. The same
batch-all loss (the mean hinge over every triplet of the batch with a
positive hinge, cosine distances), Adam(lr, betas (0.9, 0.999), eps 1e-7),
batches of P classes x K images drawn from --images random images of 10
classes (their pixels do not change the arithmetic's cost).

Prints one JSON object: threads, per-epoch seconds, their median.

    /usr/bin/python3 bench/torch/cnn_epoch.py --threads 2 --epochs 2
"""
import argparse
import json
import time

import numpy as np
import torch


class CNN(torch.nn.Module):
    def __init__(self, size, conv, hidden):
        super().__init__()
        blocks, c, s = [], 1, size
        for ch in conv:
            blocks += [torch.nn.Conv2d(c, ch, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
            c, s = ch, s // 2
        self.conv = torch.nn.Sequential(*blocks)
        dense, d = [], c * s * s
        for i, h in enumerate(hidden):
            dense.append(torch.nn.Linear(d, h))
            if i < len(hidden) - 1:
                dense.append(torch.nn.ReLU())
            d = h
        self.dense = torch.nn.Sequential(*dense)
        for m in self.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                torch.nn.init.xavier_uniform_(m.weight)
                torch.nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.dense(self.conv(x).flatten(1))


def batch_all(e, y, margin):
    e = e / torch.sqrt(torch.clamp((e * e).sum(-1, keepdim=True), min=1e-12))
    d = 1 - e @ e.T
    same = y[:, None] == y[None, :]
    pos = same & ~torch.eye(len(y), dtype=torch.bool)
    valid = pos[:, :, None] & ~same[:, None, :]
    l = torch.clamp(d[:, :, None] - d[:, None, :] + margin, min=0) * valid
    n = (l > 0).sum()
    return l.sum() / torch.clamp(n, min=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--images", type=int, default=55000)
    ap.add_argument("--size", type=int, default=28)
    ap.add_argument("--conv", type=int, nargs="+", default=[32, 64])
    ap.add_argument("--hidden", type=int, nargs="+", default=[256, 128])
    ap.add_argument("--classes", type=int, default=10, help="P")
    ap.add_argument("--per-class", type=int, default=16, help="K")
    ap.add_argument("--margin", type=float, default=0.2)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x = torch.from_numpy(rng.random((args.images, 1, args.size, args.size), dtype=np.float32))
    labels = rng.integers(0, 10, args.images)
    by_class = [np.flatnonzero(labels == c) for c in range(10)]
    model = CNN(args.size, args.conv, args.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-7)
    rows = args.classes * args.per_class
    y = torch.arange(args.classes).repeat_interleave(args.per_class)

    epochs = []
    for epoch in range(args.epochs):
        start = time.perf_counter()
        total = 0.0
        batches = args.images // rows
        for _ in range(batches):
            cls = rng.choice(10, args.classes, replace=False)
            idx = np.concatenate([rng.choice(by_class[c], args.per_class) for c in cls])
            opt.zero_grad(set_to_none=True)
            loss = batch_all(model(x[idx]), y, args.margin)
            loss.backward()
            opt.step()
            total += loss.item()
        epochs.append({"epoch": epoch + 1, "seconds": time.perf_counter() - start, "batches": batches,
                       "loss": total / batches})

    secs = sorted(e["seconds"] for e in epochs)
    print(json.dumps({
        "impl": "pytorch " + torch.__version__,
        "threads": torch.get_num_threads(),
        "images": args.images,
        "conv": args.conv,
        "hidden": args.hidden,
        "seconds_per_epoch": secs[len(secs) // 2],
        "epochs": epochs,
    }))


if __name__ == "__main__":
    main()
