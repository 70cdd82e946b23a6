#!/usr/bin/env python3
"""Reference timing: the notebook's Siamese MLP trained with PyTorch.

Same model (784 -> 512 -> 256 -> 128, relu between, last layer linear,
glorot-uniform weights, zero biases), the same cosine triplet loss
(mean of max(0, cosd(a,p) - cosd(a,n) + margin), x / sqrt(max(|x|^2, 1e-12))),
Adam(lr=3e-5, betas=(0.9, 0.999), eps=1e-7), batch 32 with the last partial
batch kept, data reshuffled every epoch, validation loss after every epoch.

Data: random float32 of the real size (28500 train / 1500 validation triplets
of 3 x 784) unless --train/--val name .npy files of shape (N, 3, 784).

Prints one JSON object: threads, per-epoch seconds (training + validation),
their median, and the losses.

    /usr/bin/python3 bench/torch/epoch.py --threads 2 --epochs 2
"""
import argparse
import json
import time

import numpy as np
import torch


def load(path, n, rng):
    if path:
        x = np.load(path).astype(np.float32, copy=False)
        return torch.from_numpy(x.reshape(x.shape[0], 3, -1))
    return torch.from_numpy(rng.random((n, 3, 784), dtype=np.float32))


def build(sizes):
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        lin = torch.nn.Linear(a, b)
        torch.nn.init.xavier_uniform_(lin.weight)  # = glorot uniform
        torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def triplet_loss(e, margin):
    # e: (B*3, D) rows anchor, positive, negative
    e = e.view(-1, 3, e.shape[-1])
    e = e / torch.sqrt(torch.clamp((e * e).sum(-1, keepdim=True), min=1e-12))
    a, p, n = e[:, 0], e[:, 1], e[:, 2]
    dap = 1 - (a * p).sum(-1)
    dan = 1 - (a * n).sum(-1)
    return torch.clamp(dap - dan + margin, min=0).mean()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--train", help=".npy of shape (N, 3, 784)")
    ap.add_argument("--val", help=".npy of shape (N, 3, 784)")
    ap.add_argument("--n-train", type=int, default=28500)
    ap.add_argument("--n-val", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train = load(args.train, args.n_train, rng)
    val = load(args.val, args.n_val, rng)
    dim = train.shape[-1]

    model = build([dim, 512, 256, 128])
    opt = torch.optim.Adam(model.parameters(), lr=3e-5, betas=(0.9, 0.999), eps=1e-7)
    margin = 0.4

    epochs = []
    for epoch in range(args.epochs):
        start = time.perf_counter()
        model.train()
        perm = torch.randperm(train.shape[0])
        total, seen = 0.0, 0
        for i in range(0, train.shape[0], args.batch):
            xb = train[perm[i:i + args.batch]].reshape(-1, dim)
            opt.zero_grad(set_to_none=True)
            loss = triplet_loss(model(xb), margin)
            loss.backward()
            opt.step()
            nb = xb.shape[0] // 3
            total += loss.item() * nb
            seen += nb
        model.eval()
        with torch.no_grad():
            vl, vn = 0.0, 0
            for i in range(0, val.shape[0], args.batch):
                xb = val[i:i + args.batch].reshape(-1, dim)
                nb = xb.shape[0] // 3
                vl += triplet_loss(model(xb), margin).item() * nb
                vn += nb
        epochs.append({"epoch": epoch + 1, "seconds": time.perf_counter() - start,
                       "loss": total / seen, "val_loss": vl / vn})

    secs = sorted(e["seconds"] for e in epochs)
    print(json.dumps({
        "impl": "pytorch " + torch.__version__,
        "threads": torch.get_num_threads(),
        "batch": args.batch,
        "train_triplets": int(train.shape[0]),
        "val_triplets": int(val.shape[0]),
        "seconds_per_epoch": secs[len(secs) // 2],
        "epochs": epochs,
    }))


if __name__ == "__main__":
    main()
