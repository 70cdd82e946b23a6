#!/usr/bin/env python3
"""Reference for the whole default pipeline: the notebook's work in numpy and
PyTorch, in one process, for `make bench` to time next to `siamese run`.

1. data: bench/numpy/data_stages.py (ingest -> triplets -> flatten -> split,
   vectorised numpy, the .npy files written as the pipeline writes them);
2. train: bench/torch/epoch.py's model, loss and Adam on X_train, validated
   on X_test after every epoch, --epochs epochs at batch 32 with Keras's
   early stopping (patience 2, best weights restored);
3. evaluate: the notebook's evaluation on X_test: angular similarity
   1 - arccos(cos)/pi of (anchor, positive) and (anchor, negative) pairs,
   accuracy at 0.5, sklearn's ROC AUC.

Our evaluate stage does more (kNN, P@1 and MAP@R on 10,000 unused images
against 49,288 references, per-class anomaly AUROC, plots, Arrow files);
this reference does only what the notebook did.

Prints one JSON object: seconds per step, the metrics, threads.

    /usr/bin/python3 bench/torch/pipeline.py --out DIR [--threads 2] [--epochs 10]
"""
import argparse
import contextlib
import io
import json
import math
import os
import sys
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "numpy"))
import data_stages  # noqa: E402
import epoch as ref  # noqa: E402


def data(out, per_class):
    argv = sys.argv
    sys.argv = ["data_stages.py", "--per-class", str(per_class), "--out", out]
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            data_stages.main()
    finally:
        sys.argv = argv
    return json.loads(buf.getvalue().strip().splitlines()[-1])["seconds"]


def progress(out, **kw):
    """Appends a line to OUT/progress.jsonl, to follow a long run."""
    with open(os.path.join(out, "progress.jsonl"), "a") as f:
        f.write(json.dumps(kw) + "\n")


def embed(model, x):
    with torch.no_grad():
        return model(torch.from_numpy(x.reshape(-1, x.shape[-1]))).numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="directory for the data stages' .npy files")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--patience", type=int, default=2)
    ap.add_argument("--per-class", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    steps = {}
    t_all = time.perf_counter()

    t = time.perf_counter()
    steps["data_steps"] = data(args.out, args.per_class)
    steps["data"] = time.perf_counter() - t
    progress(args.out, step="data", seconds=steps["data"])

    t = time.perf_counter()
    train = torch.from_numpy(np.load(os.path.join(args.out, "X_train.npy")).astype(np.float32))
    x_test = np.load(os.path.join(args.out, "X_test.npy")).astype(np.float32)
    val = torch.from_numpy(x_test)
    dim = train.shape[-1]
    model = ref.build([dim, 512, 256, 128])
    opt = torch.optim.Adam(model.parameters(), lr=3e-5, betas=(0.9, 0.999), eps=1e-7)
    margin = 0.4
    best, best_state, wait, epochs = math.inf, None, 0, []
    for ep in range(args.epochs):
        start = time.perf_counter()
        model.train()
        perm = torch.randperm(train.shape[0])
        for i in range(0, train.shape[0], args.batch):
            xb = train[perm[i:i + args.batch]].reshape(-1, dim)
            opt.zero_grad(set_to_none=True)
            loss = ref.triplet_loss(model(xb), margin)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            vl, vn = 0.0, 0
            for i in range(0, val.shape[0], args.batch):
                xb = val[i:i + args.batch].reshape(-1, dim)
                nb = xb.shape[0] // 3
                vl += ref.triplet_loss(model(xb), margin).item() * nb
                vn += nb
        vl /= vn
        epochs.append({"epoch": ep + 1, "seconds": time.perf_counter() - start, "val_loss": vl})
        progress(args.out, step="epoch", **epochs[-1])
        if vl < best:  # Keras EarlyStopping(patience, restore_best_weights=True)
            best, wait = vl, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            wait += 1
            if wait >= args.patience:
                break
    model.load_state_dict(best_state)
    steps["train"] = time.perf_counter() - t

    t = time.perf_counter()
    e = embed(model, x_test).reshape(len(x_test), 3, -1).astype(np.float64)
    e /= np.linalg.norm(e, axis=-1, keepdims=True)
    pos = 1 - np.arccos(np.clip((e[:, 0] * e[:, 1]).sum(-1), -1, 1)) / np.pi
    neg = 1 - np.arccos(np.clip((e[:, 0] * e[:, 2]).sum(-1), -1, 1)) / np.pi
    scores = np.concatenate([pos, neg])
    labels = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    acc = float(((scores > 0.5) == labels).mean())
    auc = float(roc_auc_score(labels, scores))
    steps["evaluate"] = time.perf_counter() - t
    steps["total"] = time.perf_counter() - t_all

    print(json.dumps({
        "impl": "numpy " + np.__version__ + ", pytorch " + torch.__version__,
        "threads": torch.get_num_threads(),
        "seconds": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in steps.items()},
        "epochs": epochs,
        "binary_accuracy": acc,
        "roc_auc": auc,
    }))


if __name__ == "__main__":
    main()
